using System.Threading.Channels;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
using CloudScale.PaymentSimulator.Behaviour;

namespace CloudScale.PaymentSimulator.Payments;

/// <summary>
/// Posts each decision to its payment's callback URL after the configured latency. The queue is bounded and at most
/// <see cref="MaxInFlight"/> callbacks wait at once, so a flood of authorizations is refused (503) instead of piling up.
/// As a provider's webhooks are, a callback is delivered again (after 1 s, doubling up to 10 s) while the receiver cannot
/// take it (no connection, a timeout, 408, 429, 5xx) for up to <see cref="RedeliveryWindow"/>: a receiver that restarts,
/// or whose replica died, still learns the decision. A 2xx or another 4xx ends the delivery. The body is written as the
/// API's answers are (statuses as camelCase strings).
/// </summary>
internal sealed partial class PaymentCallbacks(
    PaymentLedger ledger, BehaviourSettings behaviour, IHttpClientFactory httpClients, IOptions<JsonOptions> json, TimeProvider time, ILogger<PaymentCallbacks> logger)
    : BackgroundService
{
    public const string HttpClientName = "payment-callbacks";
    public static readonly TimeSpan AttemptTimeout = TimeSpan.FromSeconds(10);
    public static readonly TimeSpan RedeliveryWindow = TimeSpan.FromMinutes(2);
    private const int MaxInFlight = 256;
    private static readonly TimeSpan FirstRedeliveryDelay = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MaxRedeliveryDelay = TimeSpan.FromSeconds(10);

    private readonly Channel<Guid> _queue = Channel.CreateBounded<Guid>(new BoundedChannelOptions(10_000) { SingleReader = true });

    /// <summary>Schedules the callback of <paramref name="paymentId"/>; false when the queue is full.</summary>
    public bool TrySchedule(Guid paymentId) => _queue.Writer.TryWrite(paymentId);

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Parallel.ForEachAsync(
            _queue.Reader.ReadAllAsync(stoppingToken),
            new ParallelOptions { MaxDegreeOfParallelism = MaxInFlight, CancellationToken = stoppingToken },
            DeliverAsync);

    private async ValueTask DeliverAsync(Guid paymentId, CancellationToken cancellationToken)
    {
        await Task.Delay(TimeSpan.FromMilliseconds(behaviour.Current.LatencyMs), time, cancellationToken);
        // A payment voided before the decision has nothing to report.
        if (ledger.Decide(paymentId) is not { Status: PaymentStatus.Authorized or PaymentStatus.Declined } decided)
        {
            return;
        }

        var giveUpAt = time.GetUtcNow() + RedeliveryWindow;
        var delay = FirstRedeliveryDelay;
        for (var attempt = 1; ; attempt++)
        {
            var failure = await TryDeliverAsync(decided, cancellationToken);
            if (failure is null)
            {
                return;
            }

            if (!failure.Value.Retriable || time.GetUtcNow() + delay > giveUpAt)
            {
                LogCallbackAbandoned(logger, decided.Id, decided.CallbackUrl, attempt, failure.Value.Reason);
                return;
            }

            LogCallbackRedelivered(logger, decided.Id, decided.CallbackUrl, attempt, failure.Value.Reason, delay);
            await Task.Delay(delay, time, cancellationToken);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxRedeliveryDelay.Ticks));
        }
    }

    /// <summary>Null when the receiver took the callback; otherwise why not, and whether a redelivery may succeed.</summary>
    private async Task<(string Reason, bool Retriable)?> TryDeliverAsync(Payment decided, CancellationToken cancellationToken)
    {
        try
        {
            using var client = httpClients.CreateClient(HttpClientName);
            using var response = await client.PostAsJsonAsync(decided.CallbackUrl, new PaymentConfirmation(decided.Id, decided.OrderId, decided.Status), json.Value.SerializerOptions, cancellationToken);
            var status = (int)response.StatusCode;
            return response.IsSuccessStatusCode ? null
                : ($"answered {status}", status is StatusCodes.Status408RequestTimeout or StatusCodes.Status429TooManyRequests or >= 500);
        }
        catch (HttpRequestException exception)
        {
            return (exception.Message, true);
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return ($"no answer within {AttemptTimeout.TotalSeconds:0} s", true);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The callback of payment {PaymentId} to {CallbackUrl} failed (attempt {Attempt}: {Reason}); delivering it again in {Delay}")]
    private static partial void LogCallbackRedelivered(ILogger logger, Guid paymentId, Uri callbackUrl, int attempt, string reason, TimeSpan delay);

    [LoggerMessage(Level = LogLevel.Error, Message = "The callback of payment {PaymentId} to {CallbackUrl} is abandoned after {Attempt} attempts ({Reason})")]
    private static partial void LogCallbackAbandoned(ILogger logger, Guid paymentId, Uri callbackUrl, int attempt, string reason);
}
