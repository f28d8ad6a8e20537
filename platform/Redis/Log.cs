using Microsoft.Extensions.Logging;

namespace CloudScale.Redis;

internal static partial class Log
{
    [LoggerMessage(Level = LogLevel.Information, Message = "Connected to Redis at {EndPoint} ({Role})")]
    public static partial void Connected(ILogger logger, string endPoint, string role);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Lost the {Role} connection to Redis at {EndPoint}: {Reason}")]
    public static partial void ConnectionLost(ILogger logger, string role, string endPoint, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Connecting to Redis at {EndPoint} ({Role}) failed, retrying in {DelayMs} ms: {Reason}")]
    public static partial void ConnectFailed(ILogger logger, string endPoint, string role, double delayMs, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Reconnected to Redis at {EndPoint} ({Role})")]
    public static partial void Reconnected(ILogger logger, string endPoint, string role);

    [LoggerMessage(Level = LogLevel.Error, Message = "A subscription handler for channel {Channel} threw")]
    public static partial void HandlerFailed(ILogger logger, string channel, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Restoring {Count} subscriptions after a reconnect failed: {Reason}")]
    public static partial void ResubscribeFailed(ILogger logger, int count, string reason);
}
