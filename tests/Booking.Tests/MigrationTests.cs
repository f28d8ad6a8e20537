using System.Net;
using CloudScale.Testing;

namespace CloudScale.Booking.Tests;

public sealed class MigrationTests(TestServers servers)
{
    private const string AppliedMigrations = "SELECT string_agg(version || ' ' || name || ' ' || applied_at, ', ' ORDER BY version) FROM schema_migrations";

    [Fact]
    public async Task Replicas_starting_together_apply_each_migration_once()
    {
        var database = await servers.CreateDatabaseAsync();
        var redis = (await servers.RedisAsync()).ConnectionString;

        var replicas = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => BookingService.StartAsync(database, redis)));
        foreach (var replica in replicas)
        {
            Assert.Equal(HttpStatusCode.OK, (await replica.Client.FetchAsync("/rooms")).StatusCode);
            await replica.DisposeAsync();
        }

        Assert.Equal(2L, await Sql.ScalarAsync<long>(database, "SELECT count(*) FROM schema_migrations"));
        var applied = await Sql.ScalarAsync<string>(database, AppliedMigrations);
        Assert.Contains("1 0001_rooms", applied, StringComparison.Ordinal);
        Assert.Contains("2 0002_reservations", applied, StringComparison.Ordinal);

        // A restart finds nothing to do: the record, including when each migration ran, is untouched.
        await using (await BookingService.StartAsync(database, redis))
        {
            Assert.Equal(applied, await Sql.ScalarAsync<string>(database, AppliedMigrations));
        }
    }

    [Fact]
    public async Task A_migration_edited_after_it_was_applied_stops_start_up_and_names_it()
    {
        var database = await servers.CreateDatabaseAsync();
        var redis = (await servers.RedisAsync()).ConnectionString;
        await (await BookingService.StartAsync(database, redis)).DisposeAsync();
        await Sql.ExecuteAsync(database, "UPDATE schema_migrations SET checksum = 'edited' WHERE version = 1");

        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => BookingService.StartAsync(database, redis));

        Assert.Contains("0001_rooms", failure.Message, StringComparison.Ordinal);
    }
}
