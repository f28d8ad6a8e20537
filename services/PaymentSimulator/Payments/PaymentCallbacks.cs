using System.Threading.Channels;
using CloudScale.PaymentSimulator.Behaviour;

namespace CloudScale.PaymentSimulator.Payments;

/// <summary>
/// Posts each decision to its payment's callback URL after the configured latency. The queue is bounded and at most
/// <see cref="MaxInFlight"/> callbacks wait at once, so a flood of authorizations is refused (503) instead of piling up.
/// Each callback is tried through the standard resilience pipeline and then dropped: a caller that lost it authorizes
/// again and gets it again.
/// </summary>
internal sealed partial class PaymentCallbacks(
    PaymentLedger ledger, BehaviourSettings behaviour, IHttpClientFactory httpClients, ILogger<PaymentCallbacks> logger) : BackgroundService
{
    public const string HttpClientName = "payment-callbacks";
    private const int MaxInFlight = 256;

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
        await Task.Delay(behaviour.Current.LatencyMs, cancellationToken);
        // A payment voided before the decision has nothing to report.
        if (ledger.Decide(paymentId) is not { Status: PaymentStatus.Authorized or PaymentStatus.Declined } decided)
        {
            return;
        }

        try
        {
            using var client = httpClients.CreateClient(HttpClientName);
            using var response = await client.PostAsJsonAsync(decided.CallbackUrl, new PaymentConfirmation(decided.Id, decided.OrderId, decided.Status), cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                LogCallbackRefused(logger, decided.Id, decided.CallbackUrl, (int)response.StatusCode);
            }
        }
        catch (Exception exception) when (exception is HttpRequestException or Polly.ExecutionRejectedException)
        {
            LogCallbackFailed(logger, decided.Id, decided.CallbackUrl, exception);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The callback of payment {PaymentId} to {CallbackUrl} was answered {StatusCode}")]
    private static partial void LogCallbackRefused(ILogger logger, Guid paymentId, Uri callbackUrl, int statusCode);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The callback of payment {PaymentId} to {CallbackUrl} failed")]
    private static partial void LogCallbackFailed(ILogger logger, Guid paymentId, Uri callbackUrl, Exception exception);
}
