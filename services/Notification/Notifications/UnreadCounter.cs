using StackExchange.Redis;
using Microsoft.Extensions.Options;

namespace CloudScale.Notification.Notifications;

/// <summary>
/// Each user's unread count, cached in Redis and kept current by increments and decrements as notifications are stored
/// and read. Postgres is the truth: a missing count is rebuilt from it on the next read and then lives for
/// <see cref="NotificationOptions.UnreadCountCacheDuration"/>, which bounds how long a lost adjustment can skew it.
/// </summary>
internal sealed class UnreadCounter(RedisBestEffort redis, NotificationStore store, IOptions<NotificationOptions> options)
{
    // Adjusts only a count that exists: one created here would start from zero instead of from what Postgres holds.
    // A count driven below zero (an adjustment raced a rebuild) is dropped, so that the next read rebuilds it.
    private const string AdjustScript = """
        if redis.call('EXISTS', KEYS[1]) == 0 then return false end
        local count = redis.call('INCRBY', KEYS[1], ARGV[1])
        if count < 0 then redis.call('DEL', KEYS[1]) end
        return count
        """;

    public static string Key(string userId) => $"notification:unread:{userId}";

    public async Task<long> GetAsync(string userId, CancellationToken cancellationToken)
    {
        var key = Key(userId);
        var (cached, answered) = await redis.TryAsync("unread count read", userId, database => database.StringGetAsync(key));
        if (!cached.IsNull)
        {
            return (long)cached;
        }

        var count = await store.CountUnreadAsync(userId, cancellationToken);
        if (answered)
        {
            // NX: an adjusted count that appeared meanwhile is at least as fresh as this one.
            await redis.TryAsync("unread count rebuild", userId, database =>
                database.StringSetAsync(key, count, options.Value.UnreadCountCacheDuration, When.NotExists));
        }

        return count;
    }

    /// <summary>After a notification was stored: runs to the end even if the caller has gone away, as the row is already committed.</summary>
    public Task IncrementAsync(string userId) => AdjustAsync(userId, 1);

    /// <summary>After a notification was marked read; as <see cref="IncrementAsync"/>.</summary>
    public Task DecrementAsync(string userId) => AdjustAsync(userId, -1);

    private async Task AdjustAsync(string userId, long delta) =>
        await redis.TryAsync("unread count adjust", userId, database => database.ScriptEvaluateAsync(AdjustScript, [Key(userId)], [delta]));
}
