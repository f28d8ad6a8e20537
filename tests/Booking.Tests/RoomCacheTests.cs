using System.Net;
using System.Text.Json;
using CloudScale.Booking.Rooms;
using CloudScale.Redis;
using CloudScale.Testing;

namespace CloudScale.Booking.Tests;

public sealed class RoomCacheTests(BookingServiceFixture booking) : IClassFixture<BookingServiceFixture>, IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);
    private readonly HttpClient _client = booking.Client;
    private ConnectionMultiplexer? _redis;

    private IDatabase Redis => _redis!.GetDatabase();

    public async ValueTask InitializeAsync() =>
        _redis = await ConnectionMultiplexer.ConnectAsync((await booking.Servers.RedisAsync()).ConnectionString);

    public async ValueTask DisposeAsync() => await _redis!.DisposeAsync();

    [Fact]
    public async Task A_read_caches_the_room_for_a_while_and_the_next_read_is_served_from_redis()
    {
        var room = await _client.CreateRoomAsync(name: "From Postgres");
        var key = RoomCache.Key(room.Id);
        Assert.False(await Redis.KeyExistsAsync(key, TestContext.Current.CancellationToken));

        Assert.Equal(room, await (await _client.FetchAsync($"/rooms/{room.Id}")).ReadAsync<Room>(HttpStatusCode.OK));

        Assert.InRange(await Redis.KeyTimeToLiveAsync(key, TestContext.Current.CancellationToken) ?? TimeSpan.Zero, TimeSpan.FromMinutes(4), TimeSpan.FromMinutes(5));
        // Only a read that is served from Redis can see a value that Postgres never had.
        await Redis.StringSetAsync(key, JsonSerializer.Serialize(room with { Name = "From Redis" }, JsonSerializerOptions.Web), keepTtl: true, cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal("From Redis", (await (await _client.FetchAsync($"/rooms/{room.Id}")).ReadAsync<Room>(HttpStatusCode.OK)).Name);
    }

    [Fact]
    public async Task An_update_drops_the_cached_room_so_the_next_read_sees_the_change()
    {
        var room = await _client.CreateRoomAsync(name: "Before");
        var key = RoomCache.Key(room.Id);
        await (await _client.FetchAsync($"/rooms/{room.Id}")).ReadAsync<Room>(HttpStatusCode.OK);
        Assert.True(await Redis.KeyExistsAsync(key, TestContext.Current.CancellationToken));

        using var update = await _client.UpdateRoomAsync(room.Id, new { name = "After", city = room.City, capacity = room.Capacity, room.PricePerNight }, room.ETag());
        Assert.Equal(HttpStatusCode.OK, update.StatusCode);

        Assert.False(await Redis.KeyExistsAsync(key, TestContext.Current.CancellationToken));
        var reread = await (await _client.FetchAsync($"/rooms/{room.Id}")).ReadAsync<Room>(HttpStatusCode.OK);
        Assert.Equal(("After", 2), (reread.Name, reread.Version));
        Assert.Contains("\"After\"", (string?)await Redis.StringGetAsync(key, TestContext.Current.CancellationToken), StringComparison.Ordinal);
    }

    [Fact]
    public async Task While_redis_is_down_reads_and_updates_are_served_from_postgres()
    {
        await using var redis = await RedisServer.StartNewAsync();
        await using var service = await BookingService.StartAsync(booking.Database, redis.ConnectionString);
        var client = service.Client;
        var room = await client.CreateRoomAsync(name: "Before the outage");
        await (await client.FetchAsync($"/rooms/{room.Id}")).ReadAsync<Room>(HttpStatusCode.OK);

        await redis.StopAsync();

        Assert.Equal(room, await (await client.FetchAsync($"/rooms/{room.Id}")).ReadAsync<Room>(HttpStatusCode.OK));
        using var update = await client.UpdateRoomAsync(room.Id, new { name = "During the outage", city = room.City, capacity = room.Capacity, room.PricePerNight }, room.ETag());
        Assert.Equal(HttpStatusCode.OK, update.StatusCode);
        Assert.Equal("During the outage", (await (await client.FetchAsync($"/rooms/{room.Id}")).ReadAsync<Room>(HttpStatusCode.OK)).Name);
        var nights = $"from={BookingClient.Night(5):yyyy-MM-dd}&to={BookingClient.Night(6):yyyy-MM-dd}";
        Assert.Equal(HttpStatusCode.OK, (await client.FetchAsync($"/rooms/{room.Id}/availability?{nights}")).StatusCode);

        await redis.StartAsync();
        await using var redisClient = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);

        // Once the service has reconnected, reads fill the cache again.
        await Poll.UntilAsync(
            async () =>
            {
                await (await client.FetchAsync($"/rooms/{room.Id}")).ReadAsync<Room>(HttpStatusCode.OK);
                return await redisClient.GetDatabase().KeyExistsAsync(RoomCache.Key(room.Id), TestContext.Current.CancellationToken);
            },
            Deadline,
            () => "The room was never cached again after Redis came back.");
    }
}
