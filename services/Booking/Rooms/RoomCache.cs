using System.Text.Json;
using CloudScale.Redis;
using Microsoft.Extensions.Options;

namespace CloudScale.Booking.Rooms;

/// <summary>
/// Cache-aside for single rooms: read Redis, else Postgres and fill Redis for <see cref="BookingOptions.RoomCacheDuration"/>;
/// updates delete the entry, so every replica reads the new version next. Redis only ever speeds things up: when it is
/// unreachable or slow, lookups go to Postgres and the failure is logged, never answered.
/// </summary>
internal sealed partial class RoomCache(IConnectionMultiplexer redis, RoomStore rooms, IOptions<BookingOptions> options, ILogger<RoomCache> logger)
{
    public static string Key(Guid roomId) => $"booking:room:{roomId}";

    public async Task<Room?> GetAsync(Guid roomId, CancellationToken cancellationToken)
    {
        var key = Key(roomId);
        var (cached, reachable) = await TryRedisAsync(database => database.StringGetAsync(key, cancellationToken), "read", roomId);
        if (!cached.IsNull)
        {
            BookingTelemetry.RoomCacheLookups.Add(1, new KeyValuePair<string, object?>("result", "hit"));
            return JsonSerializer.Deserialize<Room>(cached.ToString(), JsonSerializerOptions.Web);
        }

        BookingTelemetry.RoomCacheLookups.Add(1, new KeyValuePair<string, object?>("result", reachable ? "miss" : "bypass"));
        var room = await rooms.FindAsync(roomId, cancellationToken);
        if (room is not null && reachable)
        {
            var json = JsonSerializer.Serialize(room, JsonSerializerOptions.Web);
            await TryRedisAsync(database => database.StringSetAsync(key, json, options.Value.RoomCacheDuration, cancellationToken: cancellationToken), "fill", roomId);
        }

        return room;
    }

    /// <summary>
    /// Drops the cached room after a committed change, even if the caller has gone away meanwhile (Redis's command
    /// timeout bounds the wait). A stale entry survives only if Redis is unreachable now, or if a read that began before
    /// the change refills it just after; either way for no longer than the cache duration.
    /// </summary>
    public Task InvalidateAsync(Guid roomId) =>
        TryRedisAsync(database => database.KeyDeleteAsync(Key(roomId), CancellationToken.None), "invalidate", roomId);

    /// <summary>The command's result and true, or the default and false when Redis could not answer.</summary>
    private async Task<(T Result, bool Reachable)> TryRedisAsync<T>(Func<IDatabase, Task<T>> command, string operation, Guid roomId)
    {
        try
        {
            return (await command(redis.GetDatabase()), true);
        }
        catch (Exception exception) when (exception is RedisException or TimeoutException)
        {
            LogRedisUnavailable(logger, operation, roomId, exception.Message);
            return (default!, false);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Room cache {Operation} for room {RoomId} skipped, Redis did not answer: {Reason}")]
    private static partial void LogRedisUnavailable(ILogger logger, string operation, Guid roomId, string reason);
}
