using Npgsql;

namespace CloudScale.WorkflowHost;

/// <summary>The tables the activities write and the crash test reads; every replica creates them if they are missing.</summary>
internal static class Effects
{
    public static async Task CreateTablesAsync(NpgsqlDataSource effects)
    {
        await using var command = effects.CreateCommand("""
            CREATE TABLE IF NOT EXISTS step_runs (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                instance_id text NOT NULL,
                step text NOT NULL,
                process_id int NOT NULL);
            CREATE TABLE IF NOT EXISTS step_effects (
                instance_id text NOT NULL,
                step text NOT NULL,
                value int NOT NULL,
                PRIMARY KEY (instance_id, step));
            CREATE TABLE IF NOT EXISTS ledger (id int PRIMARY KEY, total bigint NOT NULL);
            INSERT INTO ledger VALUES (1, 0) ON CONFLICT DO NOTHING;
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
