using Aspire.Hosting.Dapr;
using CloudScale.Testing;
using Dapr.DurableTask.Protobuf;
using Dapr.Workflow;
using Grpc.Core;
using Grpc.Net.Client;

namespace CloudScale.Sidecar.Workflow.Tests;

/// <summary>Which state store holds workflows (the one marked <c>actorStateStore: "true"</c>, as in daprd), and the API token.</summary>
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

    [Fact]
    public async Task With_an_API_token_the_worker_and_the_client_present_it_and_a_stream_without_it_is_refused()
    {
        var redis = (await servers.RedisAsync()).ConnectionString;
        await using var sidecar = await DaprSidecar.StartAsync(new SidecarSettings($"token-{Guid.NewGuid():N}", SidecarResources.Folder(("workflowstore.yaml", WorkflowStores.Redis(redis))))
        {
            Environment = new Dictionary<string, string>(StringComparer.Ordinal) { ["DAPR_API_TOKEN"] = "workflow-secret" },
        });
        await using var worker = await WorkerHost.StartAsync(sidecar, "worker", "workflow-secret");

        var id = await worker.Client.ScheduleNewWorkflowAsync(nameof(ChainWorkflow), $"token-{Guid.NewGuid():N}", 1, null, Token);

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Token);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        Assert.Equal(4, (await worker.Client.WaitForWorkflowCompletionAsync(id, cancellation: timeout.Token)).ReadOutputAs<int>());
        using var channel = GrpcChannel.ForAddress(sidecar.GrpcEndpoint);
        using var stream = new TaskHubSidecarService.TaskHubSidecarServiceClient(channel).GetWorkItems(new GetWorkItemsRequest(), cancellationToken: Token);
        var refused = await Assert.ThrowsAsync<RpcException>(() => stream.ResponseStream.MoveNext(Token));
        Assert.Equal(StatusCode.Unauthenticated, refused.StatusCode);
    }
}
