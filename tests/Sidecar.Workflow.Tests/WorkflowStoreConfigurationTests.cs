using CloudScale.Testing;
using Dapr.Workflow;
using Grpc.Core;

namespace CloudScale.Sidecar.Workflow.Tests;

/// <summary>Which state store holds workflows: the one marked <c>actorStateStore: "true"</c>, as in daprd.</summary>
public sealed class WorkflowStoreConfigurationTests(TestServers servers)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Without_an_actor_state_store_workflow_calls_get_daprds_error()
    {
        var redis = (await servers.RedisAsync()).ConnectionString;
        await using var sidecar = await DaprSidecar.StartAsync(new SidecarSettings(
            $"nostore-{Guid.NewGuid():N}", SidecarResources.Folder(("statestore.yaml", SidecarResources.RedisStateStore("statestore", redis)))));
        await using var worker = await WorkerHost.StartAsync(sidecar, "worker");

        var refused = await Assert.ThrowsAsync<RpcException>(() => worker.Client.ScheduleNewWorkflowAsync(nameof(ChainWorkflow), "x", 1, null, Token));

        Assert.Equal(StatusCode.FailedPrecondition, refused.StatusCode);
        Assert.Contains("actorStateStore", refused.Status.Detail, StringComparison.Ordinal);
        using var http = await sidecar.Http.PostAsync(new Uri("v1.0/workflows/dapr/ChainWorkflow/start", UriKind.Relative), null, Token);
        Assert.Equal(System.Net.HttpStatusCode.InternalServerError, http.StatusCode);
        Assert.Contains("actorStateStore", await http.Content.ReadAsStringAsync(Token), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Two_actor_state_stores_stop_the_sidecar_at_start_up()
    {
        var redis = (await servers.RedisAsync()).ConnectionString;
        var folder = SidecarResources.Folder(
            ("a.yaml", SidecarResources.RedisStateStore("first", redis, ("actorStateStore", "true"))),
            ("b.yaml", SidecarResources.RedisStateStore("second", redis, ("actorStateStore", "true"))));

        await using var process = TrackedProcess.Start(
            DaprSidecar.StartInfo(Aspire.Hosting.Dapr.DaprSidecarRuntime.CloudScale(), ["--app-id", "twostores", "--resources-path", folder, "--dapr-http-port", LoopbackPorts.Free().ToString(System.Globalization.CultureInfo.InvariantCulture), "--dapr-grpc-port", LoopbackPorts.Free().ToString(System.Globalization.CultureInfo.InvariantCulture)]),
            "two-actor-stores");
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Token);
        timeout.CancelAfter(TimeSpan.FromSeconds(20));
        await process.WaitForExitAsync(timeout.Token);

        Assert.Equal(1, process.ExitCode);
        Assert.Contains("detected duplicate actor state store: first and second", process.Output, StringComparison.Ordinal);
    }
}
