using System.Collections.Concurrent;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;
using Polly;

namespace CloudScale.ServiceDefaults.Resilience;

/// <summary>Raised when a client already has as many requests in flight as its bulkhead allows.</summary>
public sealed class HttpBulkheadRejectedException(string clientName)
    : HttpRequestException($"HttpClient '{clientName}' has too many requests in flight; the request was rejected.");

/// <summary>
/// One pipeline per client name, shared by every handler instance IHttpClientFactory creates for it, so the
/// circuit breaker and the bulkhead see all of that client's traffic and survive handler rotation.
/// </summary>
public sealed class HttpResiliencePipelines(IOptionsMonitor<HttpStandardResilienceOptions> options)
{
    private readonly ConcurrentDictionary<string, Lazy<ClientPipeline>> _pipelines = new(StringComparer.Ordinal);

    internal ClientPipeline For(string clientName) =>
        _pipelines.GetOrAdd(clientName, name => new Lazy<ClientPipeline>(() => Build(name, options.Get(name)))).Value;

    private static ClientPipeline Build(string clientName, HttpStandardResilienceOptions options)
    {
        var retry = options.Retry;
        if (retry.ShouldRetryAfterHeader)
        {
            var fallbackDelay = retry.DelayGenerator;
            retry.DelayGenerator = args => RetryAfter(args.Outcome) is { } delay
                ? ValueTask.FromResult<TimeSpan?>(delay)
                : fallbackDelay?.Invoke(args) ?? ValueTask.FromResult<TimeSpan?>(null);
        }

        var onRetry = retry.OnRetry;
        retry.OnRetry = args =>
        {
            // The failed response is not returned to anyone: release its connection before the next attempt.
            args.Outcome.Result?.Dispose();
            return onRetry?.Invoke(args) ?? ValueTask.CompletedTask;
        };

        var pipeline = new ResiliencePipelineBuilder<HttpResponseMessage> { Name = clientName }
            .AddTimeout(options.TotalRequestTimeout)
            .AddRetry(retry)
            .AddCircuitBreaker(options.CircuitBreaker)
            .AddTimeout(options.AttemptTimeout)
            .Build();
        return new ClientPipeline(clientName, new ConcurrencyLimiter(options.RateLimiter), pipeline);
    }

    private static TimeSpan? RetryAfter(Outcome<HttpResponseMessage> outcome)
    {
        var retryAfter = outcome.Result?.Headers.RetryAfter;
        if (retryAfter?.Delta is { } delta)
        {
            return delta;
        }

        return retryAfter?.Date is { } date && date > DateTimeOffset.UtcNow ? date - DateTimeOffset.UtcNow : null;
    }

    internal sealed record ClientPipeline(string ClientName, RateLimiter Bulkhead, ResiliencePipeline<HttpResponseMessage> Pipeline);
}

/// <summary>The delegating handler that runs every request of one client through its standard pipeline.</summary>
internal sealed class StandardResilienceHandler(HttpResiliencePipelines pipelines, string clientName) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var client = pipelines.For(clientName);
        using var lease = client.Bulkhead.AttemptAcquire();
        if (!lease.IsAcquired)
        {
            throw new HttpBulkheadRejectedException(clientName);
        }

        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        context.Properties.Set(HttpResilienceContext.RequestMessage, request);
        try
        {
            var outcome = await client.Pipeline.ExecuteOutcomeAsync(
                static async (context, state) =>
                {
                    try
                    {
                        var response = await state.Handler.SendCoreAsync(state.Request, context.CancellationToken).ConfigureAwait(context.ContinueOnCapturedContext);
                        return Outcome.FromResult(response);
                    }
                    catch (Exception exception)
                    {
                        return Outcome.FromException<HttpResponseMessage>(exception);
                    }
                },
                context,
                (Handler: this, Request: request)).ConfigureAwait(false);
            outcome.ThrowIfException();
            return outcome.Result!;
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    private Task<HttpResponseMessage> SendCoreAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
        base.SendAsync(request, cancellationToken);
}
