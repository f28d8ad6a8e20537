using Microsoft.Extensions.Caching.StackExchangeRedis;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using StackExchange.Redis;
using ZiggyCreatures.Caching.Fusion;
using ZiggyCreatures.Caching.Fusion.Backplane.StackExchangeRedis;
using ZiggyCreatures.Caching.Fusion.Serialization.SystemTextJson;

namespace CloudScale.Booking.Rooms;

internal static class RoomCacheRegistration
{
    /// <summary>The part of an entry's life after which a read answers the cached room and refreshes it in the background.</summary>
    public const float EagerRefreshThreshold = 0.5f;

    /// <summary>
    /// The <see cref="Microsoft.Extensions.Caching.Hybrid.HybridCache"/> the room cache reads through, implemented by
    /// FusionCache: memory (L1) over Redis (L2) on the multiplexer of <c>AddRedisClient("cache")</c>, one factory call per
    /// key at a time, stale-while-revalidate in the second half of an entry's life, the last value served while Postgres
    /// fails, and a Redis pub/sub backplane that evicts a changed room from every replica's memory.
    /// </summary>
    public static void AddRoomCache(this IHostApplicationBuilder builder)
    {
        builder.Services.AddFusionCache("rooms")
            .WithOptions((services, options) =>
            {
                var duration = services.GetRequiredService<IOptions<BookingOptions>>().Value.RoomCacheDuration;
                options.DefaultEntryOptions.Duration = duration;
                options.DefaultEntryOptions.EagerRefreshThreshold = EagerRefreshThreshold;
                options.DefaultEntryOptions.IsFailSafeEnabled = true;
                options.DefaultEntryOptions.FailSafeMaxDuration = duration * 12;
                // A replica that cannot reach Postgres retries it at most this often, answering the last value meanwhile.
                options.DefaultEntryOptions.FailSafeThrottleDuration = TimeSpan.FromSeconds(5);
            })
            .WithSerializer(new FusionCacheSystemTextJsonSerializer(System.Text.Json.JsonSerializerOptions.Web))
            .WithDistributedCache(services => new RedisCache(Options.Create(new RedisCacheOptions
            {
                ConnectionMultiplexerFactory = () => Task.FromResult(services.GetRequiredService<IConnectionMultiplexer>()),
            })))
            .WithBackplane(services => new RedisBackplane(
                Options.Create(new RedisBackplaneOptions
                {
                    ConnectionMultiplexerFactory = () => Task.FromResult(services.GetRequiredService<IConnectionMultiplexer>()),
                }),
                services.GetRequiredService<ILogger<RedisBackplane>>()))
            .AsHybridCache();

        builder.Services.ConfigureOpenTelemetryMeterProvider(metrics => metrics.AddMeter(FusionCacheDiagnostics.MeterName));
        builder.Services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddSource(FusionCacheDiagnostics.ActivitySourceName));
    }
}
