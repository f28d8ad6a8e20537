using System.Diagnostics;
using System.Text;
using Aspire.Hosting.ApplicationModel;

namespace Aspire.Hosting.Orchestration;

/// <summary>
/// The AppHost's console: one line per state change, and once everything is healthy a table of resource,
/// state, health, URL and log file with the time it took.
/// </summary>
internal sealed class ConsoleStatusReporter(ResourceNotificationService notifications, IReadOnlyList<ResourceRunner> runners, DistributedApplicationBuilder builder)
{
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var started = Stopwatch.StartNew();
        var announced = false;
        var last = new Dictionary<string, (string State, object? Health)>(StringComparer.Ordinal);
        await foreach (var update in notifications.WatchAsync(cancellationToken))
        {
            var key = (update.Snapshot.State, (object?)update.Snapshot.HealthStatus);
            if (last.TryGetValue(update.ResourceId, out var previous) && previous == key)
            {
                continue;
            }

            last[update.ResourceId] = key;
            var message = update.Snapshot.Message is null ? "" : $"  {update.Snapshot.Message}";
            await Console.Out.WriteLineAsync($"[apphost] {update.ResourceId,-16} {update.Snapshot.State,-14} {update.Snapshot.HealthStatus?.ToString() ?? "",-9}{message}");

            if (!announced && runners.All(runner => notifications.TryGetCurrentState(runner.Resource.Name, out var state) &&
                    state!.Snapshot is { State: KnownResourceStates.Running, HealthStatus: Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Healthy }))
            {
                announced = true;
                await Console.Out.WriteLineAsync(Table(started.Elapsed));
            }
        }
    }

    private string Table(TimeSpan elapsed)
    {
        var rows = runners.Select(runner =>
        {
            notifications.TryGetCurrentState(runner.Resource.Name, out var state);
            var url = runner.Resource switch
            {
                IResourceWithConnectionString and not ProcessResource => string.Join(' ', runner.Resource.Annotations.OfType<EndpointAnnotation>().Select(endpoint => $"localhost:{endpoint.Port}")),
                _ => string.Join(' ', state!.Snapshot.Urls),
            };
            var replicas = state!.Snapshot.Replicas.Count > 1 ? $" ×{state.Snapshot.Replicas.Count}" : "";
            var log = runner.LogFile is null ? "" : Path.GetRelativePath(builder.AppHostDirectory, runner.LogFile);
            return (Name: runner.Resource.Name + replicas, state.Snapshot.State, Health: state.Snapshot.HealthStatus?.ToString() ?? "", Url: url, Log: log);
        }).ToList();

        var text = new StringBuilder();
        text.AppendLine();
        text.AppendLine($"{"Resource",-20} {"State",-10} {"Health",-9} {"URL",-28} Log");
        foreach (var row in rows)
        {
            text.AppendLine($"{row.Name,-20} {row.State,-10} {row.Health,-9} {row.Url,-28} {row.Log}");
        }

        text.Append($"All {rows.Count} resources healthy in {elapsed.TotalSeconds:0.0} s. Press Ctrl+C to stop.");
        return text.ToString();
    }
}
