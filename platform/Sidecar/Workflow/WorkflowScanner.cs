namespace CloudScale.Sidecar.Workflow;

/// <summary>
/// Scans the workflow index every <see cref="WorkflowTimings.PollInterval"/> while a worker is connected here: this is
/// how timers come due, expired leases are handed out again and outboxes left by a crashed sidecar are delivered, for
/// whichever sidecar of the app wrote them. Every quarter of a lease it renews the leases of the items its workers hold.
/// </summary>
internal sealed partial class WorkflowScanner(WorkflowBackend backend, TimeProvider time, ILogger<WorkflowScanner> logger) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(
            RepeatAsync("scan", backend.Timings.PollInterval, backend.ScanAsync, stoppingToken),
            RepeatAsync("lease renewal", backend.Timings.LeaseDuration / 4, backend.RenewLeasesAsync, stoppingToken));

    private async Task RepeatAsync(string pass, TimeSpan interval, Func<CancellationToken, Task> run, CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(interval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await run(stoppingToken);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                LogPassFailed(logger, exception, pass, interval);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The workflow {Pass} failed; it runs again in {Interval}")]
    private static partial void LogPassFailed(ILogger logger, Exception exception, string pass, TimeSpan interval);
}
