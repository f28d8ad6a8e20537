using CloudScale.Testing;
using CloudScale.Workflow.RealSidecar;
using Dapr.Workflow;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using static CloudScale.Workflow.Tests.TestSupport;

namespace CloudScale.Workflow.Tests.Crashes;

/// <summary>
/// Two replicas of tests/TestApps/WorkflowHost, each with its own sidecar over one Postgres state store, run a few hundred
/// ShippingWorkflows while the test kills one of them with SIGKILL several times and starts it again. Every instance
/// must finish as a crash-free run does, with each activity result recorded once in its history, and the replicas'
/// recorded lease intervals must never overlap on one instance.
/// </summary>
public sealed class ProcessCrashTests(TestServers servers)
{
    private const int InstanceCount = 300;
    private const string AppId = "workflow-host";
    private const string WorkflowName = "ShippingWorkflow";
    private const int ActivitiesPerInstance = 5;
    private static readonly TimeSpan CompletionDeadline = TimeSpan.FromSeconds(75);

    [Fact]
    public async Task Workflows_survive_replicas_killed_at_random_and_no_instance_is_advanced_by_two_at_once()
    {
        var database = await servers.CreateDatabaseAsync();
        var started = await Task.WhenAll(PostgresStateSidecar.StartAsync(AppId, database), PostgresStateSidecar.StartAsync(AppId, database));
        await using var first = started[0];
        await using var second = started[1];
        DaprSidecar[] sidecars = [first, second];
        using var store = new DaprStateWorkflowStore(sidecars[0].HttpEndpoint, apiToken: null, PostgresStateSidecar.StoreName, partitionCount: 16, TimeProvider.System, NullLoggerFactory.Instance);
        await using var services = new ServiceCollection().AddSingleton<IWorkflowStore>(store).AddDaprWorkflow(_ => { }).BuildServiceProvider();
        var client = services.GetRequiredService<DaprWorkflowClient>();
        await using var observations = NpgsqlDataSource.Create(database);
        var replicas = sidecars.Select(sidecar => HostReplica.Start(sidecar.Settings.HttpPort, database)).ToArray();
        try
        {
            // The kills begin while instances are still being scheduled, so that they land in the thick of the work.
            var chaos = KillAtRandomAsync(replicas, sidecars, database, observations);
            var instanceIds = await ScheduleAsync(client);
            var kills = await chaos;

            var unfinished = instanceIds.ToHashSet(StringComparer.Ordinal);
            await Poll.UntilAsync(
                async () =>
                {
                    foreach (var instanceId in unfinished.ToList())
                    {
                        if ((await client.GetWorkflowStateAsync(instanceId, getInputsAndOutputs: false, Cancellation)).RuntimeStatus is not (WorkflowRuntimeStatus.Running or WorkflowRuntimeStatus.Pending))
                        {
                            unfinished.Remove(instanceId);
                        }
                    }

                    return unfinished.Count == 0;
                },
                CompletionDeadline,
                () => $"{unfinished.Count} unfinished after {kills} kills, e.g. {unfinished.FirstOrDefault()}; replica output:\n{string.Join('\n', replicas.Select(replica => replica.Output))}");

            for (var index = 0; index < InstanceCount; index++)
            {
                var state = await client.GetWorkflowStateAsync(instanceIds[index], cancellation: Cancellation);
                Assert.True(
                    (state.RuntimeStatus, state.ReadOutputAs<int>()) == (WorkflowRuntimeStatus.Completed, CrashFreeResult(index)),
                    $"{instanceIds[index]}: {state.RuntimeStatus} {state.ReadOutputAs<int>()}, expected {CrashFreeResult(index)}; {state.FailureDetails?.ErrorMessage}");
                var history = (await store.LoadAsync(instanceIds[index], Cancellation))!.History;
                Assert.Equal(Enumerable.Range(1, ActivitiesPerInstance).ToDictionary(taskId => taskId, _ => 1), ResultsPerTask(history));
            }

            var (runs, repeatedRuns) = await ActivityRunsAsync(observations);
            Assert.Equal(InstanceCount * ActivitiesPerInstance, runs);
            var overlaps = await OverlappingLeasesAsync(observations);
            Assert.True(overlaps.Count == 0, string.Join('\n', overlaps));
            Assert.True(await LeaseOwnersAsync(observations) >= 2, "both replicas advanced instances");
            TestContext.Current.TestOutputHelper?.WriteLine($"{kills} kills; {repeatedRuns} activity runs repeated after a crash");
        }
        finally
        {
            foreach (var replica in replicas)
            {
                await replica.DisposeAsync();
            }
        }
    }

    /// <summary>What ShippingWorkflow returns for input n without crashes: reserve n+1, charge n+2, ship (n+2+p)+1 for p = 1..3.</summary>
    private static int CrashFreeResult(int input) => (3 * input) + 15;

    private static async Task<string[]> ScheduleAsync(DaprWorkflowClient client)
    {
        var instanceIds = new string[InstanceCount];
        for (var index = 0; index < InstanceCount; index++)
        {
            instanceIds[index] = await client.ScheduleNewWorkflowAsync(WorkflowName, $"shipping-{index:000}", index, cancellation: Cancellation);
        }

        return instanceIds;
    }

    /// <summary>
    /// Kills a random replica 3 to 5 times and starts it again at once, each time when the activities run so far reach a
    /// random point between 5 % and 75 % of all of them. Moments tied to progress rather than to the clock land in the
    /// thick of the work on a machine of any speed. Returns how many kills there were.
    /// </summary>
    private static async Task<int> KillAtRandomAsync(TrackedProcess[] replicas, DaprSidecar[] sidecars, string database, NpgsqlDataSource observations)
    {
        var seed = Environment.TickCount;
        var random = new Random(seed);
        const int totalRuns = InstanceCount * ActivitiesPerInstance;
        var killPoints = Enumerable.Range(0, random.Next(3, 6)).Select(_ => random.Next(totalRuns / 20, totalRuns * 3 / 4)).Order().ToArray();
        TestContext.Current.TestOutputHelper?.WriteLine($"chaos seed {seed}: kills after {string.Join(", ", killPoints)} of {totalRuns} activity runs");
        foreach (var killPoint in killPoints)
        {
            long runs = 0;
            await Poll.UntilAsync(
                async () => (runs = (await ActivityRunsAsync(observations)).Runs) >= killPoint,
                CompletionDeadline,
                () => $"only {runs} of {totalRuns} activity runs, waiting for {killPoint}");
            Assert.True(runs < totalRuns, $"the work was done ({runs} runs) before the kill planned at {killPoint}");
            var victim = random.Next(replicas.Length);
            await replicas[victim].DisposeAsync();
            replicas[victim] = HostReplica.Start(sidecars[victim].Settings.HttpPort, database);
        }

        return killPoints.Length;
    }

    /// <summary>How many activities ran, and how many runs were repeats; none before a replica has created the table.</summary>
    private static async Task<(long Runs, long Repeated)> ActivityRunsAsync(NpgsqlDataSource observations)
    {
        await using var command = observations.CreateCommand(
            "SELECT count(DISTINCT (instance_id, activity)), count(*) - count(DISTINCT (instance_id, activity)) FROM activity_runs");
        try
        {
            await using var reader = await command.ExecuteReaderAsync(Cancellation);
            await reader.ReadAsync(Cancellation);
            return (reader.GetInt64(0), reader.GetInt64(1));
        }
        catch (PostgresException exception) when (exception.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            return (0, 0);
        }
    }

    /// <summary>Pairs of intervals in which two owners both certainly held one instance; an unreleased lease lasts until it expires.</summary>
    private static async Task<List<string>> OverlappingLeasesAsync(NpgsqlDataSource observations)
    {
        await using var command = observations.CreateCommand("""
            SELECT a.instance_id || ': ' || a.owner || ' ' || a.leased_at || '..' || coalesce(a.committing_at::text, 'expiry ' || a.lease_until)
                   || ' and ' || b.owner || ' ' || b.leased_at || '..' || coalesce(b.committing_at::text, 'expiry ' || b.lease_until)
            FROM instance_leases a JOIN instance_leases b ON a.instance_id = b.instance_id AND a.id < b.id AND a.owner <> b.owner
            WHERE a.leased_at < coalesce(b.committing_at, b.lease_until) AND b.leased_at < coalesce(a.committing_at, a.lease_until)
            LIMIT 10
            """);
        await using var reader = await command.ExecuteReaderAsync(Cancellation);
        var overlaps = new List<string>();
        while (await reader.ReadAsync(Cancellation))
        {
            overlaps.Add(reader.GetString(0));
        }

        return overlaps;
    }

    private static async Task<long> LeaseOwnersAsync(NpgsqlDataSource observations)
    {
        await using var command = observations.CreateCommand("SELECT count(DISTINCT owner) FROM instance_leases");
        return (long)(await command.ExecuteScalarAsync(Cancellation))!;
    }
}
