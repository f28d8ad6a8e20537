using Dapr.Workflow;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace CloudScale.Workflow.Engine;

/// <summary>
/// The hosted service that runs workflow steps and activities on this replica. Work this replica's engine makes ready
/// (a step that scheduled activities, an activity result, a new instance) is started at once from the engine's
/// notifications; the store is polled only every <see cref="WorkflowRuntimeOptions.PollingInterval"/> and when a known
/// timer falls due, to find work other replicas left, timers, and what a crashed replica held. Each item runs when it
/// can lease it, up to the configured concurrency: work made ready here waits for a slot (it is this replica's, often
/// already leased to it), while work a poll found is left to the next poll, here or elsewhere, when every slot is taken.
/// </summary>
internal sealed partial class WorkflowWorker : BackgroundService, IReadyWorkListener
{
    private readonly WorkflowEngine _engine;
    private readonly ILogger<WorkflowWorker> _logger;
    private readonly SemaphoreSlim _workflowSlots;
    private readonly SemaphoreSlim _activitySlots;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, RunningItem> _running = new(StringComparer.Ordinal);
    private readonly AsyncSignal _dueChanged = new();
    private DateTimeOffset _localDueAt = DateTimeOffset.MaxValue;

    public WorkflowWorker(WorkflowEngine engine, ILogger<WorkflowWorker> logger)
    {
        _engine = engine;
        _logger = logger;
        _workflowSlots = new SemaphoreSlim(engine.Options.MaxConcurrentWorkflows);
        _activitySlots = new SemaphoreSlim(engine.Options.MaxConcurrentActivities);
    }

    public void StepReady(string instanceId) =>
        Start($"workflow {instanceId}", _workflowSlots, () => _engine.RunWorkflowStepAsync(instanceId, CancellationToken.None), madeReadyHere: true);

    public void ActivityLeased(ActivityWorkItem activity) =>
        Start(ActivityWorkKey(activity.Key), _activitySlots, () => _engine.RunLeasedActivityAsync(activity, CancellationToken.None), madeReadyHere: true);

    public void DueAt(DateTimeOffset time)
    {
        lock (_lock)
        {
            if (time >= _localDueAt)
            {
                return;
            }

            _localDueAt = time;
        }

        _dueChanged.Set();
    }

    public override void Dispose()
    {
        _workflowSlots.Dispose();
        _activitySlots.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _engine.ReadyWork = this;
        var pollInterval = _engine.Options.PollingInterval;
        var nextPollAt = _engine.Now;
        while (!stoppingToken.IsCancellationRequested)
        {
            var dueChanged = _dueChanged.Next;
            try
            {
                if (ClearLocalDueIfPassed() | _engine.Now >= nextPollAt)
                {
                    nextPollAt = await PollAsync(stoppingToken);
                }

                DateTimeOffset wakeAt;
                lock (_lock)
                {
                    wakeAt = _localDueAt < nextPollAt ? _localDueAt : nextPollAt;
                }

                await AsyncSignal.WaitAsync(dueChanged, wakeAt - _engine.Now, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception exception) when (exception is not OutOfMemoryException)
            {
                Log.PollFailed(_logger, exception, pollInterval);
                nextPollAt = _engine.Now + pollInterval;
                await Task.Delay(pollInterval, CancellationToken.None);
            }
        }

        // Work already started finishes (bounded by the host's shutdown timeout), so no result waits for a lease to expire.
        _engine.ReadyWork = null;
        Task[] running;
        lock (_lock)
        {
            running = [.. _running.Values.Select(item => item.Completion)];
        }

        await Task.WhenAll(running);
    }

    /// <summary>Starts what the store holds ready; returns when to poll next: the polling interval, or sooner if a timer is due.</summary>
    private async Task<DateTimeOffset> PollAsync(CancellationToken cancellationToken)
    {
        var work = await _engine.GetWorkAsync(cancellationToken);
        foreach (var instanceId in work.DueInstances)
        {
            Start($"workflow {instanceId}", _workflowSlots, () => _engine.RunWorkflowStepAsync(instanceId, CancellationToken.None), madeReadyHere: false);
        }

        foreach (var activity in work.Activities)
        {
            Start(ActivityWorkKey(activity), _activitySlots, () => _engine.RunActivityAsync(activity, CancellationToken.None), madeReadyHere: false);
        }

        var next = _engine.Now + _engine.Options.PollingInterval;
        return work.NextDueAt < next ? work.NextDueAt.Value : next;
    }

    private static string ActivityWorkKey(ActivityKey activity) => $"activity {activity.InstanceId} {activity.TaskId}";

    /// <summary>True if the local due time has passed; it is cleared then, as the poll that follows covers it.</summary>
    private bool ClearLocalDueIfPassed()
    {
        lock (_lock)
        {
            if (_localDueAt > _engine.Now)
            {
                return false;
            }

            _localDueAt = DateTimeOffset.MaxValue;
            return true;
        }
    }

    /// <summary>
    /// Runs one item unless it is running here already: work made ready here once a slot of its kind is free, work a
    /// poll found only if one is free now. Work made ready here for an item while it runs runs it once more afterwards,
    /// since the run may have loaded the instance before that work arrived.
    /// </summary>
    private void Start(string key, SemaphoreSlim slots, Func<Task> run, bool madeReadyHere)
    {
        lock (_lock)
        {
            if (_running.TryGetValue(key, out var running))
            {
                running.RunAgain |= madeReadyHere;
                return;
            }

            if (!madeReadyHere && !slots.Wait(0))
            {
                return;
            }

            var item = new RunningItem();
            _running[key] = item;
            // RunAsync yields before anything else, so it cannot finish and remove the item before Completion is set.
            item.Completion = RunAsync(key, item, slots, run, holdsSlot: !madeReadyHere);
        }
    }

    private async Task RunAsync(string key, RunningItem item, SemaphoreSlim slots, Func<Task> run, bool holdsSlot)
    {
        await Task.Yield();
        if (!holdsSlot)
        {
            await slots.WaitAsync(CancellationToken.None);
        }

        try
        {
            while (true)
            {
                try
                {
                    await run();
                }
                catch (Exception exception) when (exception is not OutOfMemoryException)
                {
                    // The lease it held expires and another poll, here or on another replica, tries again.
                    Log.WorkItemFailed(_logger, exception, key);
                }

                lock (_lock)
                {
                    if (!item.RunAgain)
                    {
                        _running.Remove(key);
                        return;
                    }

                    item.RunAgain = false;
                }
            }
        }
        finally
        {
            slots.Release();
        }
    }

    private sealed class RunningItem
    {
        public Task Completion { get; set; } = Task.CompletedTask;

        public bool RunAgain { get; set; }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "Looking for workflow work failed; trying again in {Wait}")]
        public static partial void PollFailed(ILogger logger, Exception exception, TimeSpan wait);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Workflow work item {WorkItem} failed; it is retried once its lease expires")]
        public static partial void WorkItemFailed(ILogger logger, Exception exception, string workItem);
    }
}
