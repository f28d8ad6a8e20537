using System.Diagnostics;

namespace Aspire.Hosting.Orchestration;

/// <summary>
/// Keeps one process (a server or one replica of a project) running: starts it, polls its health, and when it
/// dies unexpectedly reports Exited and restarts it with exponential backoff (1 s, 2 s, 4 s … 30 s).
/// </summary>
internal sealed class SupervisedProcess(
    string name,
    Func<ProcessStartInfo> describeStart,
    Func<CancellationToken, Task<bool>> isHealthy,
    string stopSignal,
    ResourceLog log,
    ProcessReaper reaper,
    Action<ReplicaSnapshot> report) : IDisposable
{
    private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(10);
    private readonly CancellationTokenSource _stopping = new();
    private ManagedProcess? _process;
    private Task _running = Task.CompletedTask;

    public string Name => name;

    public int Restarts { get; private set; }

    public int? TargetPort { get; set; }

    public void Start() => _running = RunAsync();

    public async Task StopAsync()
    {
        await _stopping.CancelAsync();
        if (_process is { } process)
        {
            await process.StopAsync(stopSignal, StopGrace);
        }

        await _running.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        Report(KnownResourceStates.Finished, processId: null, healthy: false, exitCode: _process?.Exited.IsCompleted == true ? _process.Exited.Result : null);
        Dispose();
    }

    public void Dispose()
    {
        _process?.Dispose();
        _stopping.Dispose();
    }

    /// <summary>Kills the process as a crash would (for tests and chaos): the supervisor restarts it.</summary>
    public void Kill() => _process?.Kill();

    public int? ProcessId => _process?.Id;

    private async Task RunAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            Report(KnownResourceStates.Starting, null, false, null);
            ManagedProcess process;
            try
            {
                process = ManagedProcess.Start(name, describeStart(), log, reaper);
            }
            catch (Exception exception) when (exception is System.ComponentModel.Win32Exception or DistributedApplicationException or IOException)
            {
                log.Write($"[apphost] {name} failed to start: {exception.Message}");
                Report(KnownResourceStates.FailedToStart, null, false, null, exception.Message);
                return;
            }

            _process?.Dispose();
            _process = process;
            Report(KnownResourceStates.Running, process.Id, false, null);
            using var watching = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
            var health = WatchHealthAsync(process, watching.Token);

            int exitCode;
            try
            {
                exitCode = await process.Exited.WaitAsync(_stopping.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            finally
            {
                await watching.CancelAsync();
                await health.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }

            if (_stopping.IsCancellationRequested)
            {
                return;
            }

            Restarts++;
            var backoff = TimeSpan.FromSeconds(Math.Min(30, Math.Pow(2, Math.Min(Restarts - 1, 5))));
            log.Write($"[apphost] {name} exited with code {exitCode}; restart {Restarts} in {backoff.TotalSeconds:0} s");
            Report(KnownResourceStates.Exited, null, false, exitCode);
            try
            {
                await Task.Delay(backoff, _stopping.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task WatchHealthAsync(ManagedProcess process, CancellationToken cancellationToken)
    {
        var healthy = false;
        var everHealthy = false;
        while (!cancellationToken.IsCancellationRequested && !process.Exited.IsCompleted)
        {
            bool now;
            using (var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                attempt.CancelAfter(TimeSpan.FromSeconds(3));
                try
                {
                    now = await isHealthy(attempt.Token);
                }
                catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                {
                    now = false;
                }
            }

            if (now != healthy && !process.Exited.IsCompleted)
            {
                healthy = now;
                everHealthy |= now;
                Report(KnownResourceStates.Running, process.Id, healthy, null);
            }

            // Fast polls until the first success (start-up time matters), then Aspire-like pacing.
            var delay = healthy ? TimeSpan.FromSeconds(5) : everHealthy ? TimeSpan.FromSeconds(1) : TimeSpan.FromMilliseconds(200);
            await Task.Delay(delay, cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private void Report(string state, int? processId, bool healthy, int? exitCode, string? message = null) =>
        report(new ReplicaSnapshot(name, state, processId, TargetPort, healthy, exitCode) { Message = message });
}
