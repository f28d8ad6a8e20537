using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using CloudScale.Sidecar.Configuration;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using Polly.Timeout;

namespace CloudScale.Sidecar.Invocation;

/// <summary>
/// Polly pipelines for the Resiliency targets, built once per target so circuit breakers keep their state.
/// Nesting is daprd's: retry around circuit breaker around a per-attempt timeout.
/// </summary>
internal sealed class ResiliencePipelines(ResiliencyDefinition resiliency)
{
    private readonly ConcurrentDictionary<string, ResiliencePipeline<HttpResponseMessage>> _apps = new(StringComparer.Ordinal);

    public ResiliencyDefinition Definition => resiliency;

    public ResiliencePipeline<HttpResponseMessage> ForApp(string appId) =>
        _apps.GetOrAdd(appId, id => resiliency.Apps.TryGetValue(id, out var policy) ? Build(policy) : ResiliencePipeline<HttpResponseMessage>.Empty);

    /// <summary>A pipeline that treats failures as "should retry" per <paramref name="isFailure"/>.</summary>
    // Polly's strategies declare that they may reflect over the result type, so trimming must keep its members.
    public static ResiliencePipeline<T> Build<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.All)] T>(TargetPolicy policy, Func<Outcome<T>, bool> isFailure)
    {
        var builder = new ResiliencePipelineBuilder<T>();
        if (policy.Retry is { } retry && retry.MaxRetries != 0)
        {
            builder.AddRetry(new RetryStrategyOptions<T>
            {
                MaxRetryAttempts = retry.Limit ?? int.MaxValue,
                Delay = retry.Duration,
                MaxDelay = retry.MaxInterval,
                BackoffType = retry.Exponential ? DelayBackoffType.Exponential : DelayBackoffType.Constant,
                UseJitter = retry.Exponential,
                ShouldHandle = args => ValueTask.FromResult(isFailure(args.Outcome)),
            });
        }

        if (policy.CircuitBreaker is { } breaker)
        {
            // Polly breaks on a failure ratio over a window; a ratio of 1 over at least N calls is "N consecutive failures".
            builder.AddCircuitBreaker(new CircuitBreakerStrategyOptions<T>
            {
                FailureRatio = 1.0,
                MinimumThroughput = Math.Max(2, breaker.ConsecutiveFailures),
                SamplingDuration = breaker.Interval > TimeSpan.FromMilliseconds(500) ? breaker.Interval : TimeSpan.FromDays(1),
                BreakDuration = breaker.Timeout > TimeSpan.FromMilliseconds(500) ? breaker.Timeout : TimeSpan.FromMilliseconds(500),
                ShouldHandle = args => ValueTask.FromResult(isFailure(args.Outcome)),
            });
        }

        if (policy.Timeout is { } timeout)
        {
            builder.AddTimeout(timeout);
        }

        return builder.Build();
    }

    private static ResiliencePipeline<HttpResponseMessage> Build(TargetPolicy policy) =>
        Build<HttpResponseMessage>(policy, outcome => outcome.Exception is not null
            ? outcome.Exception is HttpRequestException or TimeoutRejectedException
            // Like daprd, an app's error status (>= 400) is a failure unless the policy's matching narrows it.
            : (int)outcome.Result!.StatusCode >= 400 && (policy.Retry?.MatchesStatus?.Invoke((int)outcome.Result.StatusCode) ?? true));
}
