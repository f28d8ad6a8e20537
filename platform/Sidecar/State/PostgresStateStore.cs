using System.Globalization;
using System.Text.RegularExpressions;
using CloudScale.Sidecar.Configuration;
using Npgsql;

namespace CloudScale.Sidecar.State;

/// <summary>
/// <c>state.postgresql</c> v2 with the table contrib creates: <c>&lt;tablePrefix&gt;state(key, value bytea, etag uuid,
/// created_at, updated_at, expires_at, row_id)</c>, a random UUID etag per write, expired rows invisible and
/// swept every <c>cleanupInterval</c>.
/// </summary>
internal sealed partial class PostgresStateStore : IStateStore
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly string _table;
    private readonly string _metadataTable;
    private readonly TimeSpan _cleanupInterval;
    private readonly CancellationTokenSource _stopping = new();
    private Task _cleanup = Task.CompletedTask;

    public PostgresStateStore(ComponentDefinition component)
    {
        Name = component.Name;
        var connectionString = component.Get("connectionString") ?? throw component.Error("connectionString", "is required");
        var prefix = component.Get("tablePrefix") ?? "";
        _table = ValidIdentifier(component, "tablePrefix", prefix + "state");
        _metadataTable = ValidIdentifier(component, "metadataTableName", component.Get("metadataTableName") ?? "dapr_metadata");
        var timeout = ParseSeconds(component, "timeout", TimeSpan.FromSeconds(20));
        _cleanupInterval = ParseSeconds(component, "cleanupInterval", TimeSpan.FromHours(1));
        NpgsqlConnectionStringBuilder builder;
        try
        {
            builder = new NpgsqlConnectionStringBuilder(ToKeywordValue(connectionString));
        }
        catch (ArgumentException exception)
        {
            throw component.Error("connectionString", $"is not a valid connection string: {exception.Message}");
        }

        builder.CommandTimeout = Math.Max(1, (int)timeout.TotalSeconds);
        if (component.Get("maxConns") is { } maxConns && int.TryParse(maxConns, out var max))
        {
            builder.MaxPoolSize = max;
        }

        _dataSource = NpgsqlDataSource.Create(builder);
    }

    public string Name { get; }

    public string Type => "state.postgresql";

    public string Version => "v2";

    public IReadOnlyList<string> Capabilities { get; } = ["ETAG", "TRANSACTIONAL", "TTL"];

    public async Task InitAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        // Several sidecars may start on one database at once; the lock serialises their migrations.
        await ExecuteAsync(connection, transaction, "SELECT pg_advisory_xact_lock(hashtext($1))", cancellationToken, _table);
        await ExecuteAsync(connection, transaction, $"CREATE TABLE IF NOT EXISTS {_metadataTable} (key text NOT NULL PRIMARY KEY, value text NOT NULL)", cancellationToken);
        await ExecuteAsync(connection, transaction, $"""
            CREATE TABLE IF NOT EXISTS {_table} (
              key text NOT NULL PRIMARY KEY,
              value bytea NOT NULL,
              etag uuid NOT NULL DEFAULT gen_random_uuid(),
              created_at timestamptz NOT NULL DEFAULT now(),
              updated_at timestamptz,
              expires_at timestamptz,
              row_id bigint GENERATED ALWAYS AS IDENTITY NOT NULL)
            """, cancellationToken);
        await ExecuteAsync(connection, transaction, $"CREATE INDEX IF NOT EXISTS {_table}_expires_at_idx ON {_table} (expires_at)", cancellationToken);
        await ExecuteAsync(connection, transaction, $"CREATE UNIQUE INDEX IF NOT EXISTS {_table}_row_id_uidx ON {_table} (row_id)", cancellationToken);
        await ExecuteAsync(connection, transaction, $"INSERT INTO {_metadataTable} (key, value) VALUES ($1, '2') ON CONFLICT (key) DO UPDATE SET value = '2'", cancellationToken, "migrations-state-v2-" + _table);
        await transaction.CommitAsync(cancellationToken);
        if (_cleanupInterval > TimeSpan.Zero)
        {
            _cleanup = CleanupLoopAsync(_stopping.Token);
        }
    }

    public async Task<StateItem?> GetAsync(string key, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand(
            $"SELECT value, etag, expires_at FROM {_table} WHERE key = $1 AND (expires_at IS NULL OR expires_at > now())");
        command.Parameters.Add(new NpgsqlParameter { Value = key });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!await reader.IsDBNullAsync(2, cancellationToken))
        {
            metadata["ttlExpireTime"] = reader.GetFieldValue<DateTime>(2).ToUniversalTime().ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
        }

        return new StateItem(reader.GetFieldValue<byte[]>(0), reader.GetGuid(1).ToString(), metadata);
    }

    public async Task SetAsync(SetRequest request, CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        await SetAsync(connection, transaction: null, request, cancellationToken);
    }

    public async Task DeleteAsync(DeleteRequest request, CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        await DeleteAsync(connection, transaction: null, request, cancellationToken);
    }

    public async Task MultiAsync(IReadOnlyList<StateOperation> operations, CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        foreach (var operation in operations)
        {
            switch (operation)
            {
                case SetRequest set:
                    await SetAsync(connection, transaction, set, cancellationToken);
                    break;
                case DeleteRequest delete:
                    await DeleteAsync(connection, transaction, delete, cancellationToken);
                    break;
            }
        }

        await transaction.CommitAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        try
        {
            await _cleanup;
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }

        _stopping.Dispose();
        await _dataSource.DisposeAsync();
    }

    private async Task SetAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, SetRequest request, CancellationToken cancellationToken)
    {
        StateMetadata.ValidateOptions(request.Options);
        var value = GoJson.EncodingJson(request.Value);
        int? ttl = StateMetadata.TtlInSeconds(request.Metadata) is > 0 and var seconds ? seconds : null;
        int rows;
        if (!string.IsNullOrEmpty(request.ETag))
        {
            // v2 treats an etag that is not a UUID as a mismatch, not as invalid.
            if (!Guid.TryParse(request.ETag, out var etag))
            {
                throw new ETagException(ETagErrorKind.Mismatch, "no item was updated");
            }

            rows = await ExecuteAsync(connection, transaction, $"""
                UPDATE {_table} SET value = $2, etag = gen_random_uuid(), updated_at = now(),
                  expires_at = CASE WHEN $4::integer IS NULL THEN NULL ELSE now() + make_interval(secs => $4::integer) END
                WHERE key = $1 AND etag = $3 AND (expires_at IS NULL OR expires_at > now())
                """, cancellationToken, request.Key, value, etag, (object?)ttl ?? DBNull.Value);
        }
        else
        {
            // first-write without an etag: insert, or replace only a row that has already expired.
            var onlyIfExpired = request.Options.FirstWrite ? $"WHERE {_table}.expires_at IS NOT NULL AND {_table}.expires_at < now()" : "";
            rows = await ExecuteAsync(connection, transaction, $"""
                INSERT INTO {_table} (key, value, etag, expires_at)
                VALUES ($1, $2, gen_random_uuid(), CASE WHEN $3::integer IS NULL THEN NULL ELSE now() + make_interval(secs => $3::integer) END)
                ON CONFLICT (key) DO UPDATE SET value = excluded.value, etag = excluded.etag, updated_at = now(), expires_at = excluded.expires_at
                {onlyIfExpired}
                """, cancellationToken, request.Key, value, (object?)ttl ?? DBNull.Value);
        }

        if (rows == 0)
        {
            throw new ETagException(ETagErrorKind.Mismatch, "no item was updated");
        }
    }

    private async Task DeleteAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, DeleteRequest request, CancellationToken cancellationToken)
    {
        StateMetadata.ValidateOptions(request.Options);
        if (string.IsNullOrEmpty(request.ETag))
        {
            await ExecuteAsync(connection, transaction, $"DELETE FROM {_table} WHERE key = $1", cancellationToken, request.Key);
            return;
        }

        if (!Guid.TryParse(request.ETag, out var etag) ||
            await ExecuteAsync(connection, transaction, $"DELETE FROM {_table} WHERE key = $1 AND etag = $2", cancellationToken, request.Key, etag) == 0)
        {
            throw new ETagException(ETagErrorKind.Mismatch, "no item was deleted");
        }
    }

    private async Task CleanupLoopAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(_cleanupInterval);
        while (await timer.WaitForNextTickAsync(cancellationToken))
        {
            try
            {
                await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
                await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
                // The metadata row records the last sweep so that several sidecars on one table sweep once per interval.
                var claimed = await ExecuteAsync(connection, transaction, $"""
                    INSERT INTO {_metadataTable} (key, value) VALUES ($1, now()::text)
                    ON CONFLICT (key) DO UPDATE SET value = now()::text
                    WHERE {_metadataTable}.value::timestamptz < now() - make_interval(secs => $2)
                    """, cancellationToken, "last-cleanup-state-v2-" + _table, _cleanupInterval.TotalSeconds - 1);
                if (claimed > 0)
                {
                    await ExecuteAsync(connection, transaction, $"DELETE FROM {_table} WHERE expires_at IS NOT NULL AND expires_at < now()", cancellationToken);
                }

                await transaction.CommitAsync(cancellationToken);
            }
            catch (NpgsqlException)
            {
                // The next tick tries again; a sweep is never urgent because expired rows are already invisible.
            }
        }
    }

    private static async Task<int> ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql, CancellationToken cancellationToken, params object[] parameters)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        foreach (var parameter in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = parameter });
        }

        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static string ValidIdentifier(ComponentDefinition component, string field, string identifier) =>
        IdentifierPattern().IsMatch(identifier)
            ? identifier
            : throw component.Error(field, $"'{identifier}' is not a valid table name (letters, digits and _)");

    private static TimeSpan ParseSeconds(ComponentDefinition component, string field, TimeSpan defaultValue) => component.Get(field) switch
    {
        null => defaultValue,
        // contrib reads a bare integer as seconds.
        var text when int.TryParse(text, out var seconds) => TimeSpan.FromSeconds(seconds),
        var text when GoDuration.TryParse(text, out var duration) => duration,
        var text => throw component.Error(field, $"'{text}' is not a duration"),
    };

    /// <summary>Accepts the libpq URL form (<c>postgres://user:pass@host:port/db?sslmode=…</c>) as well as keyword=value.</summary>
    private static string ToKeywordValue(string connectionString)
    {
        if (!connectionString.StartsWith("postgres://", StringComparison.Ordinal) && !connectionString.StartsWith("postgresql://", StringComparison.Ordinal))
        {
            return connectionString;
        }

        var uri = new Uri(connectionString);
        var builder = new NpgsqlConnectionStringBuilder { Host = uri.Host, Port = uri.IsDefaultPort || uri.Port < 0 ? 5432 : uri.Port };
        var userInfo = uri.UserInfo.Split(':', 2);
        if (userInfo[0].Length > 0)
        {
            builder.Username = Uri.UnescapeDataString(userInfo[0]);
        }

        if (userInfo.Length > 1)
        {
            builder.Password = Uri.UnescapeDataString(userInfo[1]);
        }

        if (uri.AbsolutePath.Trim('/') is { Length: > 0 } database)
        {
            builder.Database = Uri.UnescapeDataString(database);
        }

        return builder.ConnectionString;
    }

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]{0,62}$", RegexOptions.None, matchTimeoutMilliseconds: 1000)]
    private static partial Regex IdentifierPattern();
}
