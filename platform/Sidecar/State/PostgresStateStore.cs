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
internal sealed partial class PostgresStateStore : IStateStore, IBulkStateStore
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
        // daprd's pool: maxConns when above 0, else the connection string's own size, else the greater of 4 and the
        // number of CPUs (pgxpool's default). Npgsql's default of 100 let 50 callers open 90 Postgres backends on two cores.
        if (component.Get("maxConns") is { } maxConns && int.TryParse(maxConns, out var max) && max > 0)
        {
            builder.MaxPoolSize = max;
        }
        else if (builder.MaxPoolSize == new NpgsqlConnectionStringBuilder().MaxPoolSize)
        {
            builder.MaxPoolSize = Math.Max(4, Environment.ProcessorCount);
        }

        // The store runs the same few statements over and over: prepared once per connection, Postgres skips parsing
        // and planning them each time. A connection string that sets its own value keeps it.
        if (builder.MaxAutoPrepare == 0)
        {
            builder.MaxAutoPrepare = 16;
        }

        // The store leaves no session state behind (no SET, temporary tables, advisory locks or LISTEN), so a connection
        // going back to the pool needs no reset: the reset is seven statements before the next use (pgx, contrib's
        // driver, sends none).
        builder.NoResetOnClose = true;

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
        return await reader.ReadAsync(cancellationToken) ? await ReadItemAsync(reader, firstColumn: 0, cancellationToken) : null;
    }

    /// <summary>All the keys in one query (as contrib's v2 does), rather than one query per key.</summary>
    public async Task<IReadOnlyList<StateItem?>> BulkGetAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand(
            $"SELECT key, value, etag, expires_at FROM {_table} WHERE key = ANY($1) AND (expires_at IS NULL OR expires_at > now())");
        command.Parameters.Add(new NpgsqlParameter { Value = keys.ToArray() });
        var found = new Dictionary<string, StateItem>(StringComparer.Ordinal);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            found[reader.GetString(0)] = await ReadItemAsync(reader, firstColumn: 1, cancellationToken);
        }

        return [.. keys.Select(key => found.GetValueOrDefault(key))];
    }

    /// <summary>contrib's v2 <c>KeysLike</c>: in <c>row_id</c> order (the order the keys were first written), the token the last row's id.</summary>
    public async Task<KeyPage> ListKeysAsync(string prefix, string? continuationToken, uint? pageSize, CancellationToken cancellationToken)
    {
        var after = long.MinValue;
        if (!string.IsNullOrEmpty(continuationToken) && !long.TryParse(continuationToken, NumberStyles.None, CultureInfo.InvariantCulture, out after))
        {
            throw new StateRequestException($"invalid continue token: '{continuationToken}' is not a row id");
        }

        await using var command = _dataSource.CreateCommand($"""
            SELECT key, row_id FROM {_table}
            WHERE key LIKE $1 AND (expires_at IS NULL OR expires_at > now()) AND row_id > $2
            ORDER BY row_id LIMIT $3
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = LikePrefix(prefix) });
        command.Parameters.Add(new NpgsqlParameter { Value = after });
        // One row more than the page tells whether there is a next page; no page size, no limit.
        var limit = pageSize.GetValueOrDefault();
        command.Parameters.Add(new NpgsqlParameter { Value = limit > 0 ? limit + 1L : DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Bigint });
        var rows = new List<(string Key, long RowId)>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add((reader.GetString(0), reader.GetInt64(1)));
        }

        if (limit > 0 && rows.Count > limit)
        {
            rows.RemoveRange((int)limit, rows.Count - (int)limit);
            return new KeyPage([.. rows.Select(row => row.Key)], rows[^1].RowId.ToString(CultureInfo.InvariantCulture));
        }

        return new KeyPage([.. rows.Select(row => row.Key)], null);
    }

    /// <summary>A LIKE pattern matching the keys that start with <paramref name="prefix"/> (backslash is Postgres's default escape).</summary>
    private static string LikePrefix(string prefix) =>
        prefix.Replace(@"\", @"\\", StringComparison.Ordinal).Replace("%", @"\%", StringComparison.Ordinal).Replace("_", @"\_", StringComparison.Ordinal) + "%";

    public async Task<string> SetAsync(SetRequest request, CancellationToken cancellationToken)
    {
        var write = Plan(request);
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        await using var batch = new NpgsqlBatch(connection) { BatchCommands = { write.Command } };
        return await batch.ExecuteScalarAsync(cancellationToken) is Guid etag
            ? etag.ToString()
            : throw new ETagException(ETagErrorKind.Mismatch, write.MismatchIfNoRow!);
    }

    public async Task DeleteAsync(DeleteRequest request, CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        await WriteAsync(connection, transaction: null, [Plan(request)], cancellationToken);
    }

    /// <summary>
    /// The operations go to Postgres as one batch behind a BEGIN that Npgsql sends with it, then a COMMIT: two round
    /// trips however many operations. A write that finds no row to match its etag rolls the whole transaction back.
    /// </summary>
    public async Task MultiAsync(IReadOnlyList<StateOperation> operations, CancellationToken cancellationToken)
    {
        var writes = operations.Select(operation => operation switch
        {
            SetRequest set => Plan(set),
            DeleteRequest delete => Plan(delete),
            _ => throw new ArgumentException($"unknown state operation {operation.GetType().Name}", nameof(operations)),
        }).ToList();
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await WriteAsync(connection, transaction, writes, cancellationToken);
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

    private PlannedWrite Plan(SetRequest request)
    {
        StateMetadata.ValidateOptions(request.Options);
        var value = Encode(request.Value);
        object ttl = StateMetadata.TtlInSeconds(request.Metadata) is > 0 and var seconds ? seconds : DBNull.Value;
        if (!string.IsNullOrEmpty(request.ETag))
        {
            // v2 treats an etag that is not a UUID as a mismatch, not as invalid.
            if (!Guid.TryParse(request.ETag, out var etag))
            {
                throw new ETagException(ETagErrorKind.Mismatch, "no item was updated");
            }

            return new PlannedWrite(Command($"""
                UPDATE {_table} SET value = $2, etag = gen_random_uuid(), updated_at = now(),
                  expires_at = CASE WHEN $4::integer IS NULL THEN NULL ELSE now() + make_interval(secs => $4::integer) END
                WHERE key = $1 AND etag = $3 AND (expires_at IS NULL OR expires_at > now())
                RETURNING etag
                """, request.Key, value, etag, ttl), "no item was updated");
        }

        // first-write without an etag: insert, or replace only a row that has already expired.
        var onlyIfExpired = request.Options.FirstWrite ? $"WHERE {_table}.expires_at IS NOT NULL AND {_table}.expires_at < now()" : "";
        return new PlannedWrite(Command($"""
            INSERT INTO {_table} (key, value, etag, expires_at)
            VALUES ($1, $2, gen_random_uuid(), CASE WHEN $3::integer IS NULL THEN NULL ELSE now() + make_interval(secs => $3::integer) END)
            ON CONFLICT (key) DO UPDATE SET value = excluded.value, etag = excluded.etag, updated_at = now(), expires_at = excluded.expires_at
            {onlyIfExpired}
            RETURNING etag
            """, request.Key, value, ttl), "no item was updated");
    }

    /// <summary>
    /// The jsonb column's text: a decoded value as encoding/json writes it; bytes that are JSON as they are; other bytes
    /// as encoding/json writes a []byte, a base64 string.
    /// </summary>
    private static byte[] Encode(StateValue value)
    {
        if (value.Bytes is not { } bytes)
        {
            return GoJson.EncodingJson(value.Json);
        }

        try
        {
            using var document = System.Text.Json.JsonDocument.Parse(bytes);
            return bytes;
        }
        catch (System.Text.Json.JsonException)
        {
            return System.Text.Encoding.UTF8.GetBytes($"\"{Convert.ToBase64String(bytes)}\"");
        }
    }

    private PlannedWrite Plan(DeleteRequest request)
    {
        StateMetadata.ValidateOptions(request.Options);
        if (string.IsNullOrEmpty(request.ETag))
        {
            return new PlannedWrite(Command($"DELETE FROM {_table} WHERE key = $1", request.Key), MismatchIfNoRow: null);
        }

        return Guid.TryParse(request.ETag, out var etag)
            ? new PlannedWrite(Command($"DELETE FROM {_table} WHERE key = $1 AND etag = $2", request.Key, etag), "no item was deleted")
            : throw new ETagException(ETagErrorKind.Mismatch, "no item was deleted");
    }

    private static async Task WriteAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, IReadOnlyList<PlannedWrite> writes, CancellationToken cancellationToken)
    {
        await using var batch = new NpgsqlBatch(connection, transaction);
        foreach (var write in writes)
        {
            batch.BatchCommands.Add(write.Command);
        }

        await batch.ExecuteNonQueryAsync(cancellationToken);
        if (writes.FirstOrDefault(write => write.MismatchIfNoRow is not null && write.Command.RecordsAffected == 0) is { } mismatch)
        {
            throw new ETagException(ETagErrorKind.Mismatch, mismatch.MismatchIfNoRow!);
        }
    }

    private static NpgsqlBatchCommand Command(string sql, params object[] parameters)
    {
        var command = new NpgsqlBatchCommand(sql);
        foreach (var parameter in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = parameter });
        }

        return command;
    }

    /// <summary>A row's value, etag and expiry, read from <paramref name="firstColumn"/> on.</summary>
    private static async Task<StateItem> ReadItemAsync(NpgsqlDataReader reader, int firstColumn, CancellationToken cancellationToken)
    {
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!await reader.IsDBNullAsync(firstColumn + 2, cancellationToken))
        {
            metadata["ttlExpireTime"] = reader.GetFieldValue<DateTime>(firstColumn + 2).ToUniversalTime().ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
        }

        return new StateItem(reader.GetFieldValue<byte[]>(firstColumn), reader.GetGuid(firstColumn + 1).ToString(), metadata);
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

    /// <summary>A statement of a write and, for a conditional one, the mismatch to report when it touches no row.</summary>
    private sealed record PlannedWrite(NpgsqlBatchCommand Command, string? MismatchIfNoRow);

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]{0,62}$", RegexOptions.None, matchTimeoutMilliseconds: 1000)]
    private static partial Regex IdentifierPattern();
}
