using System.Collections.Concurrent;
using Dapr.Workflow;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace CloudScale.Workflow.Engine;

/// <summary>
/// The hosted service that runs workflow steps and activities on this replica: it looks for ready work whenever this
/// engine wrote some, when the next timer is due, and at least every <see cref="WorkflowRuntimeOptions.PollingInterval"/>
/// (for work other replicas wrote), and runs each item it can lease, up to the configured concurrency.
/// </summary>
internal sealed partial class WorkflowWorker(WorkflowEngine engine, ILogger<WorkflowWorker> logger) : BackgroundService
{
    private readonly ConcurrentDictionary<string, Task> _running = new(StringComparer.Ordinal);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var options = engine.Options;
        using var workflowSlots = new SemaphoreSlim(options.MaxConcurrentWorkflows);
        using var activitySlots = new SemaphoreSlim(options.MaxConcurrentActivities);
        while (!stoppingToken.IsCancellationRequested)
        {
            var signal = engine.WorkAvailable.Next;
            var wait = options.PollingInterval;
            try
            {
                var work = await engine.GetWorkAsync(stoppingToken);
                foreach (var instanceId in work.DueInstances)
                {
                    Start($"workflow {instanceId}", workflowSlots, () => engine.RunWorkflowStepAsync(instanceId, CancellationToken.None));
                }

                foreach (var activity in work.Activities)
                {
                    Start($"activity {activity.InstanceId} {activity.TaskId}", activitySlots, () => engine.RunActivityAsync(activity, CancellationToken.None));
                }

                if (work.NextDueAt - engine.Now is { } untilDue && untilDue < wait)
                {
                    wait = untilDue;
                }

                await AsyncSignal.WaitAsync(signal, wait, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception exception) when (exception is not OutOfMemoryException)
            {
                Log.PollFailed(logger, exception, wait);
                await Task.Delay(wait, CancellationToken.None);
            }
        }

        // Work already started finishes (bounded by the host's shutdown timeout), so no result waits for a lease to expire.
        await Task.WhenAll(_running.Values);
    }

    /// <summary>Runs one item unless it is running here already or every slot of its kind is taken.</summary>
    private void Start(string key, SemaphoreSlim slots, Func<Task<bool>> run)
    {
        if (_running.ContainsKey(key) || !slots.Wait(0))
        {
            return;
        }

        // The item registers itself before it runs, so it always removes itself after it was added.
        var registered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _running[key] = RunAsync();
        registered.SetResult();

        async Task RunAsync()
        {
            await registered.Task;
            try
            {
                await run();
            }
            catch (Exception exception) when (exception is not OutOfMemoryException)
            {
                // The lease it held expires and another poll, here or on another replica, tries again.
                Log.WorkItemFailed(logger, exception, key);
            }
            finally
            {
                slots.Release();
                _running.TryRemove(key, out _);
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "Looking for workflow work failed; trying again in {Wait}")]
        public static partial void PollFailed(ILogger logger, Exception exception, TimeSpan wait);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Workflow work item {WorkItem} failed; it is retried once its lease expires")]
        public static partial void WorkItemFailed(ILogger logger, Exception exception, string workItem);
    }
}
