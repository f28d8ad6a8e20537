using System.Net;
using System.Threading.RateLimiting;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using Polly.Timeout;

namespace CloudScale.ServiceDefaults.Resilience;

/// <summary>
/// The options of Microsoft.Extensions.Http.Resilience's standard handler (which does not restore here), with its
/// defaults: outer to inner, a 1000-request bulkhead, a 30 s total timeout, 3 jittered exponential retries from 2 s
/// that honour <c>Retry-After</c>, a circuit breaker (10 % failures over 30 s, at least 100 requests, 5 s break)
/// and a 10 s timeout per attempt.
/// </summary>
public sealed class HttpStandardResilienceOptions
{
    public ConcurrencyLimiterOptions RateLimiter { get; set; } = new()
    {
        PermitLimit = 1000,
        QueueLimit = 0,
        QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
    };

    public TimeoutStrategyOptions TotalRequestTimeout { get; set; } = new() { Timeout = TimeSpan.FromSeconds(30), Name = "Standard-TotalRequestTimeout" };

    public HttpRetryStrategyOptions Retry { get; set; } = new();

    public HttpCircuitBreakerStrategyOptions CircuitBreaker { get; set; } = new();

    public TimeoutStrategyOptions AttemptTimeout { get; set; } = new() { Timeout = TimeSpan.FromSeconds(10), Name = "Standard-AttemptTimeout" };
}

public sealed class HttpRetryStrategyOptions : RetryStrategyOptions<HttpResponseMessage>
{
    public HttpRetryStrategyOptions()
    {
        Name = "Standard-Retry";
        MaxRetryAttempts = 3;
        Delay = TimeSpan.FromSeconds(2);
        BackoffType = DelayBackoffType.Exponential;
        UseJitter = true;
        ShouldHandle = args => ValueTask.FromResult(HttpTransientFailures.IsTransient(args.Outcome));
    }

    /// <summary>When the response carries <c>Retry-After</c>, wait what the server asked instead of the backoff.</summary>
    public bool ShouldRetryAfterHeader { get; set; } = true;

    /// <summary>
    /// Retries only requests that are safe to repeat: POST, PUT, PATCH, DELETE and CONNECT are sent once, as
    /// Microsoft.Extensions.Http.Resilience's option of the same name does. For clients whose writes are not idempotent,
    /// or whose server applies its own retry policy (a Dapr sidecar).
    /// </summary>
    public void DisableForUnsafeHttpMethods()
    {
        var shouldHandle = ShouldHandle;
        ShouldHandle = args => args.Context.Properties.TryGetValue(HttpResilienceContext.RequestMessage, out var request) && IsUnsafe(request.Method)
            ? ValueTask.FromResult(false)
            : shouldHandle(args);
    }

    private static bool IsUnsafe(HttpMethod method) =>
        method == HttpMethod.Post || method == HttpMethod.Put || method == HttpMethod.Patch || method == HttpMethod.Delete || method == HttpMethod.Connect;
}

/// <summary>What the standard pipeline knows about the call it runs.</summary>
public static class HttpResilienceContext
{
    public static readonly ResiliencePropertyKey<HttpRequestMessage> RequestMessage = new("CloudScale.Http.RequestMessage");
}

public sealed class HttpCircuitBreakerStrategyOptions : CircuitBreakerStrategyOptions<HttpResponseMessage>
{
    public HttpCircuitBreakerStrategyOptions()
    {
        Name = "Standard-CircuitBreaker";
        FailureRatio = 0.1;
        MinimumThroughput = 100;
        SamplingDuration = TimeSpan.FromSeconds(30);
        BreakDuration = TimeSpan.FromSeconds(5);
        ShouldHandle = args => ValueTask.FromResult(HttpTransientFailures.IsTransient(args.Outcome));
    }
}

/// <summary>What the standard handler treats as transient: transport errors, timeouts, 5xx, 408 and 429.</summary>
public static class HttpTransientFailures
{
    public static bool IsTransient(Outcome<HttpResponseMessage> outcome) => outcome switch
    {
        { Exception: HttpRequestException or TimeoutRejectedException } => true,
        { Result: { } response } => IsTransient(response.StatusCode),
        _ => false,
    };

    public static bool IsTransient(HttpStatusCode status) =>
        (int)status >= 500 || status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests;
}
