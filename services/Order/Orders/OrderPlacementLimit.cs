using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;
using RedisRateLimiting;
using StackExchange.Redis;

namespace CloudScale.Order.Orders;

/// <summary>How many orders one customer may place: a token bucket per customer (names as in System.Threading.RateLimiting).</summary>
internal sealed class OrderPlacementLimitOptions
{
    public const string SectionName = "OrderPlacementLimit";

    /// <summary>The most orders a customer may place in a burst: the bucket's size.</summary>
    public int TokenLimit { get; set; } = 20;

    /// <summary>Orders a customer gets back each <see cref="ReplenishmentPeriod"/>, up to <see cref="TokenLimit"/>.</summary>
    public int TokensPerPeriod { get; set; } = 10;

    public TimeSpan ReplenishmentPeriod { get; set; } = TimeSpan.FromMinutes(1);
}

/// <summary>
/// Limits the orders each customer places with a token bucket kept in Redis, so every replica draws from the same bucket
/// and N replicas do not allow N times the limit. While Redis cannot be reached each replica keeps a bucket of its own
/// for the customer, so placing orders never depends on the cache.
/// </summary>
internal sealed partial class OrderPlacementLimit : IAsyncDisposable
{
    private readonly PartitionedRateLimiter<string> _shared;
    private readonly PartitionedRateLimiter<string> _local;
    private readonly IConnectionMultiplexer _redis;
    private readonly ILogger<OrderPlacementLimit> _logger;
    private int _sharedUnreachable;

    public OrderPlacementLimit(IConnectionMultiplexer redis, IOptions<OrderPlacementLimitOptions> options, ILogger<OrderPlacementLimit> logger)
    {
        var limit = options.Value;
        _redis = redis;
        _logger = logger;
        _shared = PartitionedRateLimiter.Create<string, string>(customerId => RedisRateLimitPartition.GetTokenBucketRateLimiter(
            $"order-placement:{customerId}",
            _ => new RedisTokenBucketRateLimiterOptions
            {
                ConnectionMultiplexerFactory = () => redis,
                TokenLimit = limit.TokenLimit,
                TokensPerPeriod = limit.TokensPerPeriod,
                ReplenishmentPeriod = limit.ReplenishmentPeriod,
            }));
        _local = PartitionedRateLimiter.Create<string, string>(customerId => RateLimitPartition.GetTokenBucketLimiter(
            customerId,
            _ => new TokenBucketRateLimiterOptions
            {
                TokenLimit = limit.TokenLimit,
                TokensPerPeriod = limit.TokensPerPeriod,
                ReplenishmentPeriod = limit.ReplenishmentPeriod,
                QueueLimit = 0,
            }));
    }

    /// <summary>Takes one order from the customer's bucket: null when it had one, else how long until it has one again.</summary>
    public async ValueTask<TimeSpan?> TryTakeAsync(string customerId, CancellationToken cancellationToken)
    {
        using var lease = await AcquireAsync(customerId, cancellationToken);
        if (lease.IsAcquired)
        {
            return null;
        }

        // The Redis bucket gives whole seconds under its own metadata name; the in-process one a TimeSpan.
        return lease.TryGetMetadata(RateLimitMetadataName.RetryAfter, out var seconds) ? TimeSpan.FromSeconds(seconds)
            : lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? retryAfter
            : TimeSpan.FromSeconds(1);
    }

    private async ValueTask<RateLimitLease> AcquireAsync(string customerId, CancellationToken cancellationToken)
    {
        // While disconnected the Redis client would queue the script until its timeout (5 s): ask the local bucket at once.
        if (_redis.IsConnected)
        {
            try
            {
                var lease = await _shared.AcquireAsync(customerId, cancellationToken: cancellationToken);
                if (Interlocked.Exchange(ref _sharedUnreachable, 0) == 1)
                {
                    LogSharedBack(_logger);
                }

                return lease;
            }
            catch (Exception exception) when (exception is RedisException or RedisTimeoutException)
            {
                NoteSharedUnreachable(exception);
            }
        }
        else
        {
            NoteSharedUnreachable(exception: null);
        }

        return await _local.AcquireAsync(customerId, cancellationToken: cancellationToken);
    }

    private void NoteSharedUnreachable(Exception? exception)
    {
        if (Interlocked.Exchange(ref _sharedUnreachable, 1) == 0)
        {
            LogSharedUnreachable(_logger, exception);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _shared.DisposeAsync();
        await _local.DisposeAsync();
    }

    [LoggerMessage(LogLevel.Warning, "Redis is unreachable: each replica now limits the orders a customer places on its own, until Redis answers again")]
    private static partial void LogSharedUnreachable(ILogger logger, Exception? exception);

    [LoggerMessage(LogLevel.Information, "Redis answers again: the order placement limit is shared by every replica again")]
    private static partial void LogSharedBack(ILogger logger);
}
