using System.Net;
using CloudScale.Testing;

namespace CloudScale.Sidecar.Tests;

/// <summary>
/// An app id with two replicas, each behind its own sidecar, as the AppHost declares them to every sidecar
/// (<c>CLOUDSCALE_DAPR_APPS__{appId}__{replica}</c>): invocation by app id takes the replicas in turn.
/// </summary>
public sealed class ReplicaInvocationTests
{
    private const string NameResolverVariable = "CLOUDSCALE_DAPR_APPS__";

    [Fact]
    public async Task Invocation_by_app_id_spreads_evenly_over_the_replicas()
    {
        var resources = SidecarResources.Folder();
        await using var first = await EchoApp.StartAsync();
        await using var second = await EchoApp.StartAsync();
        await using var firstSidecar = await Sidecars.StartAsync("booking", resources, first.Port);
        await using var secondSidecar = await Sidecars.StartAsync("booking", resources, second.Port);
        var replicas = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [$"{NameResolverVariable}booking__0"] = firstSidecar.HttpEndpoint.ToString(),
            [$"{NameResolverVariable}booking__1"] = secondSidecar.HttpEndpoint.ToString(),
        };
        await using var caller = await Sidecars.StartAsync("order", resources, environment: replicas);

        // Marked, so that the sidecars' own calls to their apps at start-up are not counted.
        var marker = Guid.NewGuid().ToString();
        for (var call = 0; call < 10; call++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/v1.0/invoke/booking/method/rooms");
            request.Headers.Add("x-custom", marker);
            using var response = await caller.Http.SendAsync(request, TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        int Calls(EchoApp app) => app.ReceivedHeaders.Count(headers => headers["x-custom"] == marker);
        Assert.Equal((5, 5), (Calls(first), Calls(second)));
    }
}
