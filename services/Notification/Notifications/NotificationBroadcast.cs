using System.Text.Json;
using StackExchange.Redis;

namespace CloudScale.Notification.Notifications;

/// <summary>
/// Relays each new notification to every replica through Redis pub/sub (channel <c>notification:user:{userId}</c>), so
/// that a user's streams get it whichever replica stored it. Pub/sub is fire-and-forget: a stream that misses a message
/// (Redis down, or the stream disconnected) catches up from Postgres with <c>Last-Event-ID</c>.
/// </summary>
internal sealed class NotificationBroadcast(RedisBestEffort redis)
{
    public static RedisChannel Channel(string userId) => RedisChannel.Literal($"notification:user:{userId}");

    /// <summary>After a notification was stored; runs to the end even if the caller has gone away.</summary>
    public Task PublishAsync(UserNotification notification) =>
        redis.TryAsync("publish", notification.UserId, _ => redis.Connection.GetSubscriber().PublishAsync(
            Channel(notification.UserId), JsonSerializer.Serialize(notification, JsonSerializerOptions.Web)));

    /// <summary>
    /// Calls <paramref name="onNotification"/> for each notification of the user published from now on, on Redis's reader:
    /// it must return quickly. Dispose the result to stop. Throws when Redis cannot be reached, as nothing would arrive.
    /// </summary>
    public async Task<IAsyncDisposable> SubscribeAsync(string userId, Action<UserNotification> onNotification)
    {
        var subscriber = redis.Connection.GetSubscriber();
        var channel = Channel(userId);
        Action<RedisChannel, RedisValue> handler = (_, message) =>
            onNotification(JsonSerializer.Deserialize<UserNotification>((string)message!, JsonSerializerOptions.Web)!);
        await subscriber.SubscribeAsync(channel, handler);
        return new Subscription(redis, userId, channel, handler);
    }

    private sealed class Subscription(RedisBestEffort redis, string userId, RedisChannel channel, Action<RedisChannel, RedisValue> handler) : IAsyncDisposable
    {
        // The handler is removed before UNSUBSCRIBE is sent, so a Redis failure here leaves nothing behind:
        // the channel is not subscribed again on reconnect.
        public async ValueTask DisposeAsync() =>
            await redis.TryAsync("unsubscribe", userId, async _ =>
            {
                await redis.Connection.GetSubscriber().UnsubscribeAsync(channel, handler);
                return true;
            });
    }
}
