using System.Diagnostics;
using System.Reflection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace CloudScale.ServiceDefaults.Data;

/// <summary>
/// Brings a service's database to the schema its build expects before the service takes traffic (hosted services
/// start before Kestrel listens). Pending migrations run in version order in one transaction under a transaction-scoped advisory
/// lock: replicas starting together queue on the lock and each migration is applied once; a failure rolls everything
/// back and stops start-up with the migration's name and Postgres's message.
/// </summary>
internal sealed partial class SchemaMigrator(NpgsqlDataSource dataSource, Assembly migrations, ILogger<SchemaMigrator> logger) : IHostedService
{
    private static readonly ActivitySource Source = new("CloudScale.Migrations");

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var service = migrations.GetName().Name!;
        using var activity = Source.StartActivity("migrate");
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        activity?.SetTag("db.namespace", connection.Database);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var lockCommand = new NpgsqlCommand("SELECT pg_advisory_xact_lock(hashtext(@service || ' schema migrations'))", connection, transaction))
        {
            lockCommand.Parameters.AddWithValue("service", service);
            await lockCommand.ExecuteNonQueryAsync(cancellationToken);
        }

        await ExecuteAsync(connection, transaction, """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version    integer PRIMARY KEY,
                name       text NOT NULL,
                checksum   text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            );
            """, cancellationToken);

        var applied = await ReadAppliedAsync(connection, transaction, cancellationToken);
        var pending = 0;
        foreach (var migration in Migration.LoadEmbedded(migrations))
        {
            if (applied.TryGetValue(migration.Version, out var appliedChecksum))
            {
                if (!string.Equals(appliedChecksum, migration.Checksum, StringComparison.Ordinal))
                {
                    throw new InvalidOperationException(
                        $"Migration {migration.Name} was changed after it was applied to this database; add a new migration instead.");
                }

                continue;
            }

            try
            {
                await ExecuteAsync(connection, transaction, migration.Sql, cancellationToken);
            }
            catch (PostgresException exception)
            {
                throw new InvalidOperationException($"Migration {migration.Name} failed: {exception.MessageText}", exception);
            }

            await using var record = new NpgsqlCommand(
                "INSERT INTO schema_migrations (version, name, checksum) VALUES (@version, @name, @checksum)", connection, transaction);
            record.Parameters.AddWithValue("version", migration.Version);
            record.Parameters.AddWithValue("name", migration.Name);
            record.Parameters.AddWithValue("checksum", migration.Checksum);
            await record.ExecuteNonQueryAsync(cancellationToken);
            LogApplied(logger, migration.Name);
            pending++;
        }

        await transaction.CommitAsync(cancellationToken);
        activity?.SetTag("cloudscale.migrations.applied", pending);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task<Dictionary<int, string>> ReadAppliedAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT version, checksum FROM schema_migrations", connection, transaction);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var applied = new Dictionary<int, string>();
        while (await reader.ReadAsync(cancellationToken))
        {
            applied[reader.GetInt32(0)] = reader.GetString(1);
        }

        return applied;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Applied migration {Migration}")]
    private static partial void LogApplied(ILogger logger, string migration);
}
