using System.Diagnostics;
using System.Net;
using CloudScale.Booking.Rooms;
using CloudScale.Testing;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace CloudScale.Booking.Tests;

public sealed class RoomCacheTests(BookingServiceFixture booking) : IClassFixture<BookingServiceFixture>
{
    /// <summary>
    /// How soon a change made through one replica is served by every other: the backplane's pub/sub message evicts the
    /// room from their memory, so this is one Redis round trip plus a loaded machine's scheduling, stated with room to spare.
    /// </summary>
    private static readonly TimeSpan InvalidationBound = TimeSpan.FromSeconds(2);

    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);
    private readonly HttpClient _client = booking.Client;

    [Fact]
    public async Task A_read_caches_the_room_in_memory_and_in_redis()
    {
        var room = await _client.CreateRoomAsync(name: "From Postgres");
        Assert.Equal(room, await ReadRoomAsync(_client, room.Id));

        // Only a read served from a cache can miss a change that bypassed the service.
        await RenameInPostgresAsync(room.Id, "Changed behind the cache");

        Assert.Equal("From Postgres", (await ReadRoomAsync(_client, room.Id)).Name);
        await using var replica = await booking.StartReplicaAsync();
        Assert.Equal("From Postgres", (await ReadRoomAsync(replica.Client, room.Id)).Name);
    }

    [Fact]
    public async Task An_update_through_one_replica_is_served_by_the_others_within_the_bound()
    {
        await using var other = await booking.StartReplicaAsync();
        var room = await _client.CreateRoomAsync(name: "Before");
        await ReadRoomAsync(_client, room.Id);
        await ReadRoomAsync(other.Client, room.Id);

        using var update = await _client.UpdateRoomAsync(room.Id, new { name = "After", city = room.City, capacity = room.Capacity, room.PricePerNight }, room.ETag());
        Assert.Equal(HttpStatusCode.OK, update.StatusCode);
        var updated = Stopwatch.StartNew();

        var reread = await ReadRoomAsync(_client, room.Id);
        Assert.Equal(("After", 2), (reread.Name, reread.Version));
        await Poll.UntilAsync(async () => (await ReadRoomAsync(other.Client, room.Id)).Name == "After", Deadline);
        Assert.True(updated.Elapsed < InvalidationBound, $"The other replica served the old room for {updated.Elapsed.TotalMilliseconds:0} ms.");
    }

    [Fact]
    public async Task A_hundred_concurrent_misses_of_one_key_call_the_factory_once()
    {
        var cache = booking.Service.App.Services.GetRequiredService<HybridCache>();
        var key = RoomCache.Key(Guid.NewGuid());
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var callers = 0;
        var factoryCalls = 0;

        // The factory cannot finish before all hundred callers have asked, so without stampede protection each would call it.
        var reads = Enumerable.Range(0, 100).Select(_ =>
        {
            if (Interlocked.Increment(ref callers) == 100)
            {
                gate.SetResult();
            }

            return cache.GetOrCreateAsync(key, async token =>
            {
                Interlocked.Increment(ref factoryCalls);
                await gate.Task.WaitAsync(token);
                return "from the factory";
            }, cancellationToken: TestContext.Current.CancellationToken).AsTask();
        }).ToList();

        Assert.All(await Task.WhenAll(reads), value => Assert.Equal("from the factory", value));
        Assert.Equal(1, factoryCalls);
    }

    [Fact]
    public async Task Past_half_its_life_a_stale_room_is_answered_while_one_refresh_runs()
    {
        var duration = TimeSpan.FromSeconds(4);
        await using var replica = await booking.StartReplicaAsync(new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["Booking:RoomCacheDuration"] = duration.ToString(),
        });
        var room = await replica.Client.CreateRoomAsync(name: "Old");
        var cachedBefore = Stopwatch.StartNew();
        await ReadRoomAsync(replica.Client, room.Id);
        await RenameInPostgresAsync(room.Id, "New");

        var answers = new List<(TimeSpan At, string Name)>();
        await Poll.UntilAsync(
            async () =>
            {
                var name = (await ReadRoomAsync(replica.Client, room.Id)).Name;
                answers.Add((cachedBefore.Elapsed, name));
                return name == "New";
            },
            Deadline);

        // The entry lives until at least `duration` after cachedBefore started: seeing the new name earlier means a read in
        // the second half of its life answered the old room and refreshed it in the background, rather than waiting out expiry.
        var refreshed = answers[^1].At;
        Assert.True(refreshed < duration, $"The new name appeared only {refreshed.TotalSeconds:0.0} s after caching, at expiry.");
        Assert.Contains(answers, answer => answer.Name == "Old" && answer.At >= duration * RoomCacheRegistration.EagerRefreshThreshold);
    }

    [Fact]
    public async Task While_postgres_is_down_the_last_room_is_served_past_its_duration()
    {
        var duration = TimeSpan.FromSeconds(2);
        await using var postgres = await PostgresServer.StartNewAsync();
        await using var service = await BookingService.StartAsync(
            await postgres.CreateDatabaseAsync(), booking.Redis, new Dictionary<string, string?>(StringComparer.Ordinal)
            {
                ["Booking:RoomCacheDuration"] = duration.ToString(),
            });
        var room = await service.Client.CreateRoomAsync(name: "Before the outage");
        var cached = Stopwatch.StartNew();
        await ReadRoomAsync(service.Client, room.Id);

        await postgres.StopAsync();

        // Every read until well past the entry's duration answers the room: fail-safe keeps the last value when the refresh fails.
        await Poll.UntilAsync(
            async () =>
            {
                Assert.Equal(room, await ReadRoomAsync(service.Client, room.Id));
                return cached.Elapsed > duration * 2;
            },
            Deadline);
    }

    [Fact]
    public async Task While_redis_is_down_reads_and_updates_are_served_from_postgres()
    {
        await using var redis = await RedisServer.StartNewAsync();
        await using var service = await BookingService.StartAsync(booking.Database, redis.ConnectionString);
        var client = service.Client;
        var room = await client.CreateRoomAsync(name: "Before the outage");
        await ReadRoomAsync(client, room.Id);

        await redis.StopAsync();

        Assert.Equal(room, await ReadRoomAsync(client, room.Id));
        using var update = await client.UpdateRoomAsync(room.Id, new { name = "During the outage", city = room.City, capacity = room.Capacity, room.PricePerNight }, room.ETag());
        Assert.Equal(HttpStatusCode.OK, update.StatusCode);
        Assert.Equal("During the outage", (await ReadRoomAsync(client, room.Id)).Name);
        var nights = $"from={BookingClient.Night(5):yyyy-MM-dd}&to={BookingClient.Night(6):yyyy-MM-dd}";
        Assert.Equal(HttpStatusCode.OK, (await client.FetchAsync($"/rooms/{room.Id}/availability?{nights}")).StatusCode);

        await redis.StartAsync();
        await using var redisClient = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);

        // Once the service has reconnected, a room read for the first time is written to Redis again.
        await Poll.UntilAsync(
            async () =>
            {
                var another = await client.CreateRoomAsync(name: "After the outage");
                await ReadRoomAsync(client, another.Id);
                return await redisClient.GetServers()[0].DatabaseSizeAsync() > 0;
            },
            Deadline,
            () => "Nothing was cached in Redis again after it came back.");
    }

    private static async Task<Room> ReadRoomAsync(HttpClient client, Guid roomId) =>
        await (await client.FetchAsync($"/rooms/{roomId}")).ReadAsync<Room>(HttpStatusCode.OK);

    private async Task RenameInPostgresAsync(Guid roomId, string name) =>
        await Sql.ExecuteAsync(booking.Database, "UPDATE rooms SET name = @name WHERE id = @id", ("name", name), ("id", roomId));
}
