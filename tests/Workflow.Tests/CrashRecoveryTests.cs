using CloudScale.Workflow.Testing;
using Dapr.Workflow;
using static CloudScale.Workflow.Tests.TestSupport;

namespace CloudScale.Workflow.Tests;

/// <summary>
/// A replica dies where it hurts most; another one, a new engine over the same store, finishes the workflow. Activities
/// run at least once, and each result is recorded exactly once.
/// </summary>
public sealed class CrashRecoveryTests
{
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(1);

    private readonly WorkflowTestClock _clock = new();
    private readonly InMemoryWorkflowStore _store;
    private readonly Dictionary<string, int> _runs = new(StringComparer.Ordinal);

    public CrashRecoveryTests()
    {
        _store = new InMemoryWorkflowStore(_clock);
    }

    [Fact]
    public async Task An_activity_whose_result_was_lost_in_a_crash_runs_again_on_another_replica_and_is_recorded_once()
    {
        var crashing = InterceptedStore.Wrap(_store, (method, args, proceed) =>
            method.Name == nameof(IWorkflowStore.TryCompleteActivityAsync) && args[0] is ActivityWorkItem { Name: "Charge" } ? throw new SimulatedCrashException() : proceed());
        await using (var doomed = Replica(crashing))
        {
            await doomed.Client.ScheduleNewWorkflowAsync(nameof(OrderWorkflow), "crash-1", new Order("o1", 1, 20m), cancellation: Cancellation);
            await Assert.ThrowsAsync<SimulatedCrashException>(() => doomed.RunUntilIdleAsync(Cancellation));
        }

        await using var survivor = Replica(_store);
        await survivor.RunUntilIdleAsync(Cancellation);
        Assert.Equal(1, _runs["Charge"]);

        await survivor.AdvanceTimeAsync(Lease, Cancellation);

        await AssertCompletedOnceAsync(survivor, "crash-1", new OrderResult("R-o1", "P-20", "S-R-o1"));
        Assert.Equal(2, _runs["Charge"]);
    }

    [Fact]
    public async Task A_step_that_crashed_before_it_was_saved_is_replayed_by_another_replica_without_running_activities_again()
    {
        var crashing = InterceptedStore.Wrap(_store, (method, args, proceed) =>
            method.Name == nameof(IWorkflowStore.TryCommitAsync) && args[0] is WorkflowCommit commit && commit.AppendedHistory.OfType<TaskCompleted>().Any(result => result.TaskId == 2)
                ? throw new SimulatedCrashException()
                : proceed());
        await using (var doomed = Replica(crashing))
        {
            await doomed.Client.ScheduleNewWorkflowAsync(nameof(OrderWorkflow), "crash-2", new Order("o2", 1, 30m), cancellation: Cancellation);
            await Assert.ThrowsAsync<SimulatedCrashException>(() => doomed.RunUntilIdleAsync(Cancellation));
        }

        await using var survivor = Replica(_store);
        await survivor.RunUntilIdleAsync(Cancellation);
        Assert.False(_runs.ContainsKey("Ship"), "the crashed replica's lease holds the instance until it expires");

        await survivor.AdvanceTimeAsync(Lease, Cancellation);

        await AssertCompletedOnceAsync(survivor, "crash-2", new OrderResult("R-o2", "P-30", "S-R-o2"));
        Assert.Equal((1, 1, 1), (_runs["Reserve"], _runs["Charge"], _runs["Ship"]));
    }

    [Fact]
    public async Task The_late_result_of_a_replica_whose_activity_lease_expired_is_dropped()
    {
        WorkflowTestHost? rescuer = null;
        var charges = 0;
        void Configure(WorkflowRuntimeOptions options)
        {
            options.RegisterWorkflow<OrderWorkflow>();
            options.ActivityLeaseDuration = Lease;
            options.RegisterActivity<Order, string>("Charge", async (_, order) =>
            {
                if (Interlocked.Increment(ref charges) > 1)
                {
                    return "P-on-time";
                }

                // This replica stalls past its lease; another one takes the activity over and finishes the workflow.
                _clock.Advance(Lease * 2);
                await rescuer!.RunUntilIdleAsync(Cancellation);
                return "P-late";
            });
        }

        await using var stalled = new WorkflowTestHost(Configure, _store, _clock);
        await using var rescuing = new WorkflowTestHost(Configure, _store, _clock);
        rescuer = rescuing;
        foreach (var host in new[] { stalled, rescuing })
        {
            host.StubActivity<Order, string>("Reserve", order => $"R-{order.Id}");
            host.StubActivity<string, string>("Ship", reservation => $"S-{reservation}");
        }

        await stalled.Client.ScheduleNewWorkflowAsync(nameof(OrderWorkflow), "stalled", new Order("o3", 1, 1m), cancellation: Cancellation);
        await stalled.RunUntilIdleAsync(Cancellation);

        await AssertCompletedOnceAsync(stalled, "stalled", new OrderResult("R-o3", "P-on-time", "S-R-o3"));
        Assert.Equal(2, charges);
    }

    [Fact]
    public async Task A_duplicate_result_is_ignored_because_the_history_already_has_one()
    {
        await using var host = new WorkflowTestHost(options => options.RegisterWorkflow<GatedOrderWorkflow>(), _store, _clock);
        ChainingAndFanOutTests.StubOrderActivities(host);
        await host.Client.ScheduleNewWorkflowAsync(nameof(GatedOrderWorkflow), "duplicated", new Order("o4", 1, 40m), cancellation: Cancellation);
        await host.RunUntilIdleAsync(Cancellation);

        var executionId = (await _store.GetMetadataAsync("duplicated", Cancellation))!.ExecutionId;
        var now = _clock.GetUtcNow();
        await _store.DeliverAsync("duplicated", new InboxMessage("again", new TaskCompleted(now, 2, "\"P-forged\""), now, executionId), Cancellation);
        await _store.DeliverAsync("duplicated", new InboxMessage("never-scheduled", new TaskCompleted(now, 99, "\"?\""), now, executionId), Cancellation);
        await host.RunUntilIdleAsync(Cancellation);
        await host.Client.RaiseEventAsync("duplicated", "Go", true, Cancellation);
        await host.RunUntilIdleAsync(Cancellation);

        await AssertCompletedOnceAsync(host, "duplicated", new OrderResult("R-o4", "P-40", "S-R-o4"));
        Assert.DoesNotContain(99, ResultsPerTask(await host.HistoryAsync("duplicated")).Keys);
    }

    private WorkflowTestHost Replica(IWorkflowStore store)
    {
        var host = new WorkflowTestHost(
            options =>
            {
                options.RegisterWorkflow<OrderWorkflow>();
                options.WorkflowLeaseDuration = Lease;
                options.ActivityLeaseDuration = Lease;
            },
            store,
            _clock);
        host.StubActivity<Order, string>("Reserve", order => Counted("Reserve", $"R-{order.Id}"));
        host.StubActivity<Order, string>("Charge", order => Counted("Charge", $"P-{order.Amount}"));
        host.StubActivity<string, string>("Ship", reservation => Counted("Ship", $"S-{reservation}"));
        return host;
    }

    private string Counted(string activity, string result)
    {
        _runs[activity] = _runs.GetValueOrDefault(activity) + 1;
        return result;
    }

    private static async Task AssertCompletedOnceAsync(WorkflowTestHost host, string instanceId, OrderResult expected)
    {
        var state = await host.Client.GetWorkflowStateAsync(instanceId, cancellation: Cancellation);
        Assert.Equal(WorkflowRuntimeStatus.Completed, state.RuntimeStatus);
        Assert.Equal(expected, state.ReadOutputAs<OrderResult>());
        var history = await host.HistoryAsync(instanceId);
        Assert.Equal([1, 2, 3], history.OfType<TaskScheduled>().Select(scheduled => scheduled.TaskId));
        Assert.Equal(new Dictionary<int, int> { [1] = 1, [2] = 1, [3] = 1 }, ResultsPerTask(history));
    }
}
