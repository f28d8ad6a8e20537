namespace CloudScale.Sidecar.Workflow;

/// <summary>
/// Scans the workflow index every <see cref="WorkflowTimings.PollInterval"/> while a worker is connected here: this is
/// how timers come due, expired leases are handed out again and outboxes left by a crashed sidecar are delivered, for
/// whichever sidecar of the app wrote them.
/// </summary>
internal sealed partial class WorkflowScanner(WorkflowBackend backend, TimeProvider time, ILogger<WorkflowScanner> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(backend.Timings.PollInterval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await backend.ScanAsync(stoppingToken);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                LogScanFailed(logger, exception, backend.Timings.PollInterval);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The workflow scan failed; it runs again in {Interval}")]
    private static partial void LogScanFailed(ILogger logger, Exception exception, TimeSpan interval);
}
