using System.Diagnostics;
using System.Reflection;
using CloudScale.Testing;
using Dapr.Workflow;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace CloudScale.Workflow.Tests.Crashes;

/// <summary>
/// Two replicas of tests/TestApps/WorkflowHost (the real Dapr.Workflow SDK), each with its own sidecar, one app id and
/// one Postgres workflow store, run 300 ShippingWorkflows while the test kills (SIGKILL) a replica or a sidecar at random
/// points of progress and starts it again. Every instance must complete with the result of a crash-free run, and every
/// activity's effect must be applied exactly once in the database, however often the backend delivered it.
/// </summary>
public sealed class ProcessCrashTests(TestServers servers)
{
    private const int InstanceCount = 300;
    private const int StepsPerInstance = 5;
    private const string AppId = "workflow-host";
    private static readonly TimeSpan CompletionDeadline = TimeSpan.FromSeconds(120);

    private static readonly string HostAssembly = typeof(ProcessCrashTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(attribute => attribute.Key == "WorkflowHostAssembly").Value!;

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Workflows_survive_replicas_and_sidecars_killed_at_random_and_apply_each_effect_once()
    {
        var database = await servers.CreateDatabaseAsync();
        var store = SidecarResources.Component("workflowstore", "state.postgresql", ("connectionString", database), ("actorStateStore", "true"));
        SidecarSettings[] sidecarSettings = [SidecarOf(store), SidecarOf(store)];
        var sidecars = await Task.WhenAll(sidecarSettings.Select(DaprSidecar.StartAsync));
        var replicas = sidecars.Select(sidecar => StartReplica(sidecar, database)).ToArray();
        // The test's client goes through a sidecar of its own, never killed; the replicas' sidecars take the work from the store.
        await using var clientSidecar = await DaprSidecar.StartAsync(SidecarOf(store));
        await using var services = ClientOf(clientSidecar);
        var client = services.GetRequiredService<DaprWorkflowClient>();
        await using var effects = NpgsqlDataSource.Create(database);
        try
        {
            // The kills begin while instances are still being scheduled, so that they land in the thick of the work.
            var chaos = KillAtRandomAsync(replicas, sidecars, sidecarSettings, database, effects);
            var instanceIds = await ScheduleAsync(client);
            var kills = await chaos;

            await WaitUntilAllEndedAsync(client, instanceIds, () => $"{kills.Count} kills; output:\n{string.Join('\n', replicas.Select(replica => replica.Output))}");

            await AssertEachCompletedWithEachEffectOnceAsync(client, instanceIds, database);
            var repeated = await Sql.ScalarAsync<long>(database, "SELECT count(*) FROM step_runs") - (InstanceCount * StepsPerInstance);
            TestContext.Current.TestOutputHelper?.WriteLine($"kills: {string.Join(", ", kills)}; {repeated} activity runs repeated after a crash");
        }
        finally
        {
            foreach (var replica in replicas)
            {
                await replica.DisposeAsync();
            }

            foreach (var sidecar in sidecars)
            {
                await sidecar.DisposeAsync();
            }
        }
    }

    private static async Task WaitUntilAllEndedAsync(DaprWorkflowClient client, string[] instanceIds, Func<string> describe)
    {
        var unfinished = instanceIds.ToHashSet(StringComparer.Ordinal);
        await Poll.UntilAsync(
            async () =>
            {
                foreach (var instanceId in unfinished.ToList())
                {
                    if ((await client.GetWorkflowStateAsync(instanceId, getInputsAndOutputs: false, Cancellation)).IsWorkflowCompleted)
                    {
                        unfinished.Remove(instanceId);
                    }
                }

                return unfinished.Count == 0;
            },
            CompletionDeadline,
            () => $"{unfinished.Count} unfinished, e.g. {unfinished.FirstOrDefault()}, after {describe()}");
    }

    private static async Task AssertEachCompletedWithEachEffectOnceAsync(DaprWorkflowClient client, string[] instanceIds, string database)
    {
        for (var index = 0; index < InstanceCount; index++)
        {
            var state = await client.GetWorkflowStateAsync(instanceIds[index], cancellation: Cancellation);
            Assert.True(
                (state.RuntimeStatus, state.ReadOutputAs<int>()) == (WorkflowRuntimeStatus.Completed, CrashFreeResult(index)),
                $"{instanceIds[index]}: {state.RuntimeStatus} {state.ReadOutputAs<int>()}, expected {CrashFreeResult(index)}; {state.FailureDetails?.ErrorMessage}");
        }

        Assert.Equal(InstanceCount * StepsPerInstance, await Sql.ScalarAsync<long>(database, "SELECT count(*) FROM step_effects"));
        Assert.Equal(
            Enumerable.Range(0, InstanceCount).Sum(index => (long)CrashFreeEffects(index)),
            await Sql.ScalarAsync<long>(database, "SELECT total FROM ledger"));
        Assert.True(await Sql.ScalarAsync<long>(database, "SELECT count(DISTINCT process_id) FROM step_runs") >= 2, "both replicas ran activities");
    }

    /// <summary>What ShippingWorkflow returns for input n: reserve n+1, charge n+2, ship (n+2+p)+1 for p = 1..3.</summary>
    private static int CrashFreeResult(int input) => (3 * input) + 15;

    /// <summary>The sum of the values its five steps add to the ledger: n, n+1, then n+2+p for p = 1..3.</summary>
    private static int CrashFreeEffects(int input) => (5 * input) + 13;

    /// <summary>A sidecar of the app whose leases last 2 s, so that the work of a killed one is taken over within the test.</summary>
    private static SidecarSettings SidecarOf(string store) =>
        new(AppId, SidecarResources.Folder(("workflowstore.yaml", store)))
        {
            Environment = new Dictionary<string, string>(StringComparer.Ordinal) { ["CLOUDSCALE_WORKFLOW_LEASE"] = "2s" },
        };

    private static TrackedProcess StartReplica(DaprSidecar sidecar, string database)
    {
        var start = new ProcessStartInfo("dotnet", ["exec", HostAssembly]);
        start.Environment["DAPR_GRPC_ENDPOINT"] = sidecar.GrpcEndpoint.ToString().TrimEnd('/');
        start.Environment.Remove("DAPR_HTTP_ENDPOINT");
        start.Environment.Remove("DAPR_API_TOKEN");
        start.Environment["ConnectionStrings__Effects"] = database;
        return TrackedProcess.Start(start, "workflow-host");
    }

    /// <summary>The SDK's client on <paramref name="sidecar"/>; its worker is registered too but never started.</summary>
    private static ServiceProvider ClientOf(DaprSidecar sidecar)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["DAPR_GRPC_ENDPOINT"] = sidecar.GrpcEndpoint.ToString().TrimEnd('/'),
        }).Build();
        var services = new ServiceCollection().AddSingleton<IConfiguration>(configuration).AddLogging();
        services.AddDaprWorkflow(_ => { });
        return services.BuildServiceProvider();
    }

    private static async Task<string[]> ScheduleAsync(DaprWorkflowClient client)
    {
        var instanceIds = new string[InstanceCount];
        for (var index = 0; index < InstanceCount; index++)
        {
            instanceIds[index] = await client.ScheduleNewWorkflowAsync("ShippingWorkflow", $"shipping-{index:000}", index, startTime: null, Cancellation);
        }

        return instanceIds;
    }

    /// <summary>
    /// Kills a random replica or sidecar 3 to 5 times and starts it again at once, each time when the activity runs so far
    /// reach a random point between 5 % and 75 % of all of them: moments tied to progress rather than to the clock land
    /// in the thick of the work on a machine of any speed. Returns what was killed, in order.
    /// </summary>
    private static async Task<List<string>> KillAtRandomAsync(
        TrackedProcess[] replicas, DaprSidecar[] sidecars, SidecarSettings[] sidecarSettings, string database, NpgsqlDataSource effects)
    {
        var seed = Environment.TickCount;
        var random = new Random(seed);
        const int totalRuns = InstanceCount * StepsPerInstance;
        var killPoints = Enumerable.Range(0, random.Next(3, 6)).Select(_ => random.Next(totalRuns / 20, totalRuns * 3 / 4)).Order().ToArray();
        TestContext.Current.TestOutputHelper?.WriteLine($"chaos seed {seed}: kills after {string.Join(", ", killPoints)} of {totalRuns} effects");
        var kills = new List<string>();
        foreach (var killPoint in killPoints)
        {
            long applied = 0;
            await Poll.UntilAsync(
                async () => (applied = await AppliedEffectsAsync(effects)) >= killPoint,
                CompletionDeadline,
                () => $"only {applied} of {totalRuns} effects, waiting for {killPoint}");
            Assert.True(applied < totalRuns, $"the work was done ({applied} effects) before the kill planned at {killPoint}");
            var victim = random.Next(replicas.Length);
            // Disposing a process kills it with SIGKILL.
            if (random.Next(2) == 0)
            {
                await replicas[victim].DisposeAsync();
                replicas[victim] = StartReplica(sidecars[victim], database);
                kills.Add($"replica {victim} at {applied}");
            }
            else
            {
                await sidecars[victim].DisposeAsync();
                sidecars[victim] = await DaprSidecar.StartAsync(sidecarSettings[victim]);
                kills.Add($"sidecar {victim} at {applied}");
            }
        }

        return kills;
    }

    /// <summary>How many steps have applied their effect; none before a replica has created the table.</summary>
    private static async Task<long> AppliedEffectsAsync(NpgsqlDataSource effects)
    {
        await using var command = effects.CreateCommand("SELECT count(*) FROM step_effects");
        try
        {
            return (long)(await command.ExecuteScalarAsync(Cancellation))!;
        }
        catch (PostgresException exception) when (exception.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            return 0;
        }
    }
}
