using System.Collections.Concurrent;
using Dapr.Workflow;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using static CloudScale.Workflow.Tests.TestSupport;

namespace CloudScale.Workflow.Tests;

public sealed class ConcurrentWorkerTests
{
    private static readonly int[] Numbers = [1, 2, 3, 4, 5];

    private readonly Dictionary<string, string> _holders = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _overlaps = new();
    private readonly ConcurrentDictionary<string, int> _stepsByWorker = new(StringComparer.Ordinal);

    [Fact]
    public async Task Replicas_sharing_a_store_share_the_work_but_never_advance_one_instance_at_the_same_time()
    {
        // Watches the store's boundary: an instance is held from the lease a step gets to the commit that ends the step.
        var store = InterceptedStore.Wrap(new InMemoryWorkflowStore(), (method, args, proceed) => method.Name switch
        {
            nameof(IWorkflowStore.TryLeaseInstanceAsync) => WatchLeaseAsync((Task<WorkflowInstanceRecord?>)proceed()!, (string)args[0]!, (string)args[1]!),
            nameof(IWorkflowStore.TryCommitAsync) => Release(((WorkflowCommit)args[0]!).Metadata.InstanceId, proceed),
            _ => proceed(),
        });
        var replicas = Enumerable.Range(0, 3).Select(_ => Replica(store)).ToList();
        foreach (var replica in replicas)
        {
            await replica.GetRequiredService<IHostedService>().StartAsync(Cancellation);
        }

        try
        {
            var clients = replicas.Select(replica => replica.GetRequiredService<DaprWorkflowClient>()).ToList();
            var instanceIds = new List<string>();
            for (var index = 0; index < 30; index++)
            {
                instanceIds.Add(await clients[index % clients.Count].ScheduleNewWorkflowAsync(nameof(SumOfSquaresWorkflow), input: Numbers, cancellation: Cancellation));
            }

            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Cancellation);
            deadline.CancelAfter(TimeSpan.FromSeconds(30));
            var states = await Task.WhenAll(instanceIds.Select(id => clients[0].WaitForWorkflowCompletionAsync(id, cancellation: deadline.Token)));

            Assert.All(states, state => Assert.Equal((WorkflowRuntimeStatus.Completed, 55), (state.RuntimeStatus, state.ReadOutputAs<int>())));
            Assert.Empty(_overlaps);
            Assert.True(_stepsByWorker.Count > 1, $"steps ran on {_stepsByWorker.Count} replica(s) only: {string.Join(", ", _stepsByWorker)}");
            var inMemory = replicas[0].GetRequiredService<IWorkflowStore>();
            foreach (var instanceId in instanceIds)
            {
                var history = (await inMemory.LoadAsync(instanceId, Cancellation))!.History;
                Assert.Equal(Enumerable.Range(1, 5).ToDictionary(taskId => taskId, _ => 1), ResultsPerTask(history));
            }
        }
        finally
        {
            foreach (var replica in replicas)
            {
                await replica.GetRequiredService<IHostedService>().StopAsync(CancellationToken.None);
                await replica.DisposeAsync();
            }
        }
    }

    private static ServiceProvider Replica(IWorkflowStore store)
    {
        var services = new ServiceCollection();
        services.AddSingleton(store);
        services.AddDaprWorkflow(options =>
        {
            options.RegisterWorkflow<SumOfSquaresWorkflow>();
            options.RegisterActivity<SquareActivity>();
            options.PollingInterval = TimeSpan.FromMilliseconds(20);
            // One step at a time per replica, so that no replica can take all the work and the others must join in.
            options.MaxConcurrentWorkflows = 1;
            options.MaxConcurrentActivities = 2;
        });
        return services.BuildServiceProvider();
    }

    private async Task<WorkflowInstanceRecord?> WatchLeaseAsync(Task<WorkflowInstanceRecord?> leasing, string instanceId, string owner)
    {
        var record = await leasing;
        if (record is not null)
        {
            lock (_holders)
            {
                if (_holders.TryGetValue(instanceId, out var holder))
                {
                    _overlaps.Enqueue($"{owner} leased {instanceId} while {holder} held it");
                }

                _holders[instanceId] = owner;
            }

            _stepsByWorker.AddOrUpdate(owner, 1, (_, steps) => steps + 1);
        }

        return record;
    }

    private object? Release(string instanceId, Func<object?> commit)
    {
        lock (_holders)
        {
            _holders.Remove(instanceId);
        }

        return commit();
    }
}
