using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.DependencyInjection;

namespace CloudScale.EndToEnd.Tests;

/// <summary>
/// Writes every resource's state changes and console output to one file, in <c>$CLOUDSCALE_TEST_SERVER_LOGS</c> when set
/// (test.sh prints its tail when a run fails) or the temporary directory: what a developer would read on the dashboard.
/// </summary>
internal sealed class AppHostLog : IAsyncDisposable
{
    private readonly StreamWriter _writer;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _watchers = [];
    private readonly HashSet<string> _watched = new(StringComparer.Ordinal);

    private AppHostLog(string path) => _writer = new StreamWriter(path) { AutoFlush = true };

    public string Path => ((FileStream)_writer.BaseStream).Name;

    public static AppHostLog Start(DistributedApplication app, string name)
    {
        var directory = Environment.GetEnvironmentVariable("CLOUDSCALE_TEST_SERVER_LOGS") is { Length: > 0 } logs ? logs : System.IO.Path.GetTempPath();
        Directory.CreateDirectory(directory);
        var log = new AppHostLog(System.IO.Path.Combine(directory, $"apphost-{name}.log"));
        log._watchers.Add(log.WatchStatesAsync(app.ResourceNotifications, app.Services.GetRequiredService<ResourceLoggerService>()));
        return log;
    }

    private async Task WatchStatesAsync(ResourceNotificationService notifications, ResourceLoggerService logs)
    {
        try
        {
            await foreach (var update in notifications.WatchAsync(_stop.Token))
            {
                Write($"{update.ResourceId}: {update.Snapshot.State?.Text} {update.Snapshot.HealthStatus} {update.Snapshot.ExitCode}");
                lock (_watched)
                {
                    if (_watched.Add(update.ResourceId))
                    {
                        _watchers.Add(WatchConsoleAsync(logs, update.ResourceId));
                    }
                }
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            // Disposed.
        }
    }

    private async Task WatchConsoleAsync(ResourceLoggerService logs, string resourceId)
    {
        try
        {
            await foreach (var batch in logs.WatchAsync(resourceId).WithCancellation(_stop.Token))
            {
                foreach (var line in batch)
                {
                    Write($"{resourceId} | {line.Content}");
                }
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            // Disposed.
        }
    }

    private void Write(string line)
    {
        lock (_writer)
        {
            _writer.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {line}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        Task[] watchers;
        lock (_watched)
        {
            watchers = [.. _watchers];
        }

        await Task.WhenAll(watchers);
        await _writer.DisposeAsync();
        _stop.Dispose();
    }
}
