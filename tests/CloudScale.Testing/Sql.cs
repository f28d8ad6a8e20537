using Npgsql;
using Xunit;

namespace CloudScale.Testing;

/// <summary>Direct reads and writes of a test database, to observe what the service stored (or to tamper with it).</summary>
public static class Sql
{
    public static async Task<T> ScalarAsync<T>(string database, string sql, params (string Name, object Value)[] parameters)
    {
        await using var dataSource = NpgsqlDataSource.Create(database);
        await using var command = Create(dataSource, sql, parameters);
        return (T)(await command.ExecuteScalarAsync(TestContext.Current.CancellationToken))!;
    }

    public static async Task<int> ExecuteAsync(string database, string sql, params (string Name, object Value)[] parameters)
    {
        await using var dataSource = NpgsqlDataSource.Create(database);
        await using var command = Create(dataSource, sql, parameters);
        return await command.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
    }

    /// <summary>Every row of <paramref name="table"/> as text, in id order: equal snapshots mean nothing changed.</summary>
    public static Task<string> SnapshotAsync(string database, string table) =>
        // Table names cannot be parameters; these are the tests' own constants.
        ScalarAsync<string>(database, $"SELECT coalesce(string_agg(t::text, E'\\n' ORDER BY t.id), '') FROM {table} t");

    private static NpgsqlCommand Create(NpgsqlDataSource dataSource, string sql, (string Name, object Value)[] parameters)
    {
        var command = dataSource.CreateCommand(sql);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        return command;
    }
}
