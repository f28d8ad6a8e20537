using System.Text.Json;
using CloudScale.Testing;
using Dapr.Client.Autogen.Grpc.v1;
using Grpc.Net.Client;

namespace CloudScale.Sidecar.Workflow.Tests;

/// <summary>The sidecar's metadata counts the workflow workers connected to it (their GetWorkItems streams), as daprd's does.</summary>
public sealed class WorkerMetadataTests(TestServers servers)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_metadata_reports_the_connected_workflow_workers_over_HTTP_and_gRPC()
    {
        var store = WorkflowStores.Redis((await servers.RedisAsync()).ConnectionString);
        await using var sidecar = await DaprSidecar.StartAsync(new SidecarSettings($"meta-{Guid.NewGuid():N}"[..13], SidecarResources.Folder(("workflowstore.yaml", store))));
        using var channel = GrpcChannel.ForAddress(sidecar.GrpcEndpoint);
        var dapr = new Dapr.Client.Autogen.Grpc.v1.Dapr.DaprClient(channel);

        Assert.False((await HttpMetadataAsync(sidecar)).TryGetProperty("workflows", out _));
        Assert.Equal(0, (await dapr.GetMetadataAsync(new GetMetadataRequest(), cancellationToken: Token)).Workflows.ConnectedWorkers);

        await using (await WorkerHost.StartAsync(sidecar, "first"))
        await using (await WorkerHost.StartAsync(sidecar, "second"))
        {
            var metadata = await Poll.UntilAsync(
                () => HttpMetadataAsync(sidecar),
                body => body.TryGetProperty("workflows", out var workflows) && workflows.GetProperty("connectedWorkers").GetInt32() == 2,
                Deadline);
            Assert.Equal(["connectedWorkers"], metadata.GetProperty("workflows").EnumerateObject().Select(property => property.Name), StringComparer.Ordinal);
            Assert.Equal(2, (await dapr.GetMetadataAsync(new GetMetadataRequest(), cancellationToken: Token)).Workflows.ConnectedWorkers);
        }

        await Poll.UntilAsync(async () => (await dapr.GetMetadataAsync(new GetMetadataRequest(), cancellationToken: Token)).Workflows.ConnectedWorkers == 0, Deadline);
        Assert.False((await HttpMetadataAsync(sidecar)).TryGetProperty("workflows", out _));
    }

    private static async Task<JsonElement> HttpMetadataAsync(DaprSidecar sidecar)
    {
        using var document = JsonDocument.Parse(await sidecar.Http.GetStringAsync(new Uri("v1.0/metadata", UriKind.Relative), Token));
        return document.RootElement.Clone();
    }
}
