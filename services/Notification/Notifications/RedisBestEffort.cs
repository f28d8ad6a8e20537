using StackExchange.Redis;

namespace CloudScale.Notification.Notifications;

/// <summary>
/// Runs Redis commands that only mirror or relay what Postgres holds. When Redis does not answer, the failure is logged
/// and counted, never answered: the caller goes on with Postgres alone.
/// </summary>
internal sealed partial class RedisBestEffort(IConnectionMultiplexer redis, ILogger<RedisBestEffort> logger)
{
    public IConnectionMultiplexer Connection => redis;

    /// <summary>The command's result and true, or the default and false when Redis could not answer.</summary>
    public async Task<(T Result, bool Answered)> TryAsync<T>(string operation, string userId, Func<IDatabase, Task<T>> command)
    {
        try
        {
            return (await command(redis.GetDatabase()), true);
        }
        catch (Exception exception) when (exception is RedisException or TimeoutException)
        {
            NotificationTelemetry.RedisBypasses.Add(1, new KeyValuePair<string, object?>("operation", operation));
            LogSkipped(logger, operation, userId, exception.Message);
            return (default!, false);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Redis {Operation} for user {UserId} skipped, Redis did not answer: {Reason}")]
    private static partial void LogSkipped(ILogger logger, string operation, string userId, string reason);
}
