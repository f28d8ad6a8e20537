using System.Diagnostics;
using System.Globalization;
using System.Text;
using Aspire.Hosting.ApplicationModel;

namespace Aspire.Hosting.Local;

/// <summary>
/// Prints, on the AppHost's console, one line for each change of a resource's state or health (the start-up's progress, later
/// crashes and restarts), and a table of every resource (state, health, URLs) once all are up, with the time it took.
/// </summary>
internal sealed class ResourceStatusReport(ResourceNotificationService notifications, ResourceLoggerService logs, DistributedApplicationModel model)
{
    private const int LogLinesOnFailure = 20;
    private readonly Stopwatch _sinceStart = Stopwatch.StartNew();
    private readonly Dictionary<string, ResourceEvent> _latest = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Queue<string>> _recentLogs = new(StringComparer.Ordinal);
    private readonly HashSet<string> _hidden = new(StringComparer.Ordinal);
    private bool _allUpReported;

    /// <summary>Watches until <paramref name="stoppingToken"/> fires; started before the resources, as the orchestrator's
    /// start-up does not return until they are.</summary>
    public async Task WatchAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var update in notifications.WatchAsync(stoppingToken))
            {
                if (update.Resource is ParameterResource || update.Snapshot.IsHidden)
                {
                    _hidden.Add(update.Resource.Name);
                    continue;
                }

                // A replica's own name (with DCP's suffix) only where the resource has several.
                var name = (update.Resource.Annotations.OfType<ReplicaAnnotation>().LastOrDefault()?.Replicas ?? 1) > 1 ? update.ResourceId : update.Resource.Name;
                var before = _latest.GetValueOrDefault(name);
                _latest[name] = update;
                if (before is null)
                {
                    _ = KeepRecentLogsAsync(update.ResourceId, stoppingToken);
                }

                if (Describe(update) is { Length: > 0 } description && description != Describe(before))
                {
                    Console.WriteLine($"{DateTime.Now:HH:mm:ss} {name}: {description}");
                    if (update.Snapshot.ExitCode is not (null or 0))
                    {
                        PrintRecentLogs(update.ResourceId);
                    }
                }

                if (!_allUpReported && AllUp())
                {
                    _allUpReported = true;
                    Console.WriteLine(Table(_sinceStart.Elapsed));
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // The AppHost is stopping.
        }
    }

    /// <summary>Keeps the last lines of a resource's console, to show why it failed without opening the dashboard.</summary>
    private async Task KeepRecentLogsAsync(string resourceId, CancellationToken stoppingToken)
    {
        var recent = new Queue<string>();
        lock (_recentLogs)
        {
            _recentLogs[resourceId] = recent;
        }

        try
        {
            await foreach (var batch in logs.WatchAsync(resourceId).WithCancellation(stoppingToken))
            {
                lock (_recentLogs)
                {
                    foreach (var line in batch)
                    {
                        recent.Enqueue(line.Content);
                        if (recent.Count > LogLinesOnFailure)
                        {
                            recent.Dequeue();
                        }
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // The AppHost is stopping.
        }
    }

    private void PrintRecentLogs(string resourceId)
    {
        lock (_recentLogs)
        {
            foreach (var line in _recentLogs.GetValueOrDefault(resourceId) ?? [])
            {
                Console.WriteLine($"    | {line}");
            }
        }
    }

    private bool AllUp()
    {
        var expected = model.Resources.Count(resource => resource is not ParameterResource && !_hidden.Contains(resource.Name));
        var replicas = model.Resources.OfType<ProjectResource>().Sum(project => (project.Annotations.OfType<ReplicaAnnotation>().LastOrDefault()?.Replicas ?? 1) - 1);
        return _latest.Count >= expected + replicas &&
            _latest.Values.All(update => update.Snapshot.State?.Text == KnownResourceStates.Running && update.Snapshot.HealthStatus == Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Healthy);
    }

    private static string Describe(ResourceEvent? update) => string.IsNullOrEmpty(update?.Snapshot.State?.Text)
        ? ""
        : $"{update!.Snapshot.State!.Text}{(update.Snapshot.HealthStatus is { } health ? $", {health}" : "")}" +
          (update.Snapshot.ExitCode is { } exitCode ? $" (exit code {exitCode})" : "");

    private string Table(TimeSpan elapsed)
    {
        var rows = _latest.OrderBy(entry => entry.Key, StringComparer.Ordinal)
            .Select(entry => (Name: entry.Key, State: Describe(entry.Value), Urls: string.Join(' ', entry.Value.Snapshot.Urls.Where(url => !url.IsInternal).Select(url => url.Url))))
            .ToList();
        var nameWidth = rows.Max(row => row.Name.Length) + 2;
        var stateWidth = rows.Max(row => row.State.Length) + 2;
        var table = new StringBuilder();
        table.AppendLine(CultureInfo.InvariantCulture, $"{"resource".PadRight(nameWidth)}{"state".PadRight(stateWidth)}urls");
        foreach (var row in rows)
        {
            table.AppendLine(CultureInfo.InvariantCulture, $"{row.Name.PadRight(nameWidth)}{row.State.PadRight(stateWidth)}{row.Urls}");
        }

        table.Append(CultureInfo.InvariantCulture, $"All {rows.Count} resources running and healthy after {elapsed.TotalSeconds:0.0} s.");
        return table.ToString();
    }
}
