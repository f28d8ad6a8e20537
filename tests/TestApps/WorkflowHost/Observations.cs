using Npgsql;

namespace CloudScale.WorkflowHost;

/// <summary>The tables the crash tests read; every replica creates them if they are missing.</summary>
internal static class Observations
{
    public static async Task CreateTablesAsync(NpgsqlDataSource observations)
    {
        await using var command = observations.CreateCommand("""
            CREATE TABLE IF NOT EXISTS activity_runs (
                instance_id text NOT NULL,
                activity text NOT NULL,
                attempt bigint GENERATED ALWAYS AS IDENTITY,
                task_execution_key text NOT NULL,
                process_id int NOT NULL,
                PRIMARY KEY (instance_id, activity, attempt));
            CREATE TABLE IF NOT EXISTS instance_leases (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                instance_id text NOT NULL,
                owner text NOT NULL,
                leased_at timestamptz NOT NULL,
                lease_until timestamptz NOT NULL,
                committing_at timestamptz);
            """);
        try
        {
            await command.ExecuteNonQueryAsync();
        }
        catch (PostgresException exception) when (exception.SqlState is PostgresErrorCodes.UniqueViolation or PostgresErrorCodes.DuplicateTable)
        {
            // The other replica created them at the same moment.
        }
    }
}
