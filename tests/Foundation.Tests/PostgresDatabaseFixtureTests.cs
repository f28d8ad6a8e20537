using CloudScale.Testing;
using Npgsql;

namespace CloudScale.Foundation.Tests;

public sealed class PostgresDatabaseFixtureTests(PostgresDatabase database, TestServers servers) : IClassFixture<PostgresDatabase>
{
    [Fact]
    public async Task The_class_gets_its_own_database_on_the_shared_server()
    {
        var shared = await servers.PostgresAsync();
        var mine = new NpgsqlConnectionStringBuilder(database.ConnectionString);
        var another = new NpgsqlConnectionStringBuilder(await servers.CreateDatabaseAsync());

        Assert.Equal(shared.Port, mine.Port);
        Assert.NotEqual(another.Database, mine.Database, StringComparer.Ordinal);
        await using var connection = new NpgsqlConnection(database.ConnectionString);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using var command = new NpgsqlCommand("SELECT current_database()", connection);
        Assert.Equal(mine.Database, await command.ExecuteScalarAsync(TestContext.Current.CancellationToken));
    }
}
