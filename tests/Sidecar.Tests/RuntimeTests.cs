using System.Diagnostics;
using System.Net;
using System.Text.Json;
using CloudScale.Testing;

namespace CloudScale.Sidecar.Tests;

/// <summary>
/// Command line, resource validation, API token, metadata, health and shutdown. Runs after the other classes, not beside
/// them, so that the start-up time it measures is the sidecar's and not the other classes' load.
/// </summary>
[Collection(nameof(RuntimeTests))]
public sealed class RuntimeTests
{
    [Fact]
    public async Task Api_token_is_required_except_on_get_healthz()
    {
        var resources = SidecarResources.Folder();
        await using var sidecar = await Sidecars.StartAsync("tokens", resources, environment: new Dictionary<string, string>(StringComparer.Ordinal) { ["DAPR_API_TOKEN"] = "s3cret" });

        using var metadata = await sidecar.Http.GetAsync("/v1.0/metadata", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Unauthorized, metadata.StatusCode);
        Assert.Equal("invalid api token", (await metadata.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).Trim());

        using var outbound = await sidecar.Http.GetAsync("/v1.0/healthz/outbound", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.NoContent, outbound.StatusCode);

        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1.0/metadata");
        request.Headers.TryAddWithoutValidation("dapr-api-token", "s3cret");
        using var authorised = await sidecar.Http.SendAsync(request, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, authorised.StatusCode);
    }

    [Fact]
    public async Task Metadata_describes_the_sidecar_and_shutdown_stops_it()
    {
        var resources = SidecarResources.Folder();
        var sidecar = await Sidecars.StartAsync("meta", resources);
        await using (sidecar)
        {
            using var put = await sidecar.Http.PutAsync("/v1.0/metadata/color", new StringContent("blue"), TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.NoContent, put.StatusCode);
            using var metadata = JsonDocument.Parse(await sidecar.Http.GetStringAsync("/v1.0/metadata", TestContext.Current.CancellationToken));
            Assert.Equal("meta", metadata.RootElement.GetProperty("id").GetString());
            Assert.Equal("blue", metadata.RootElement.GetProperty("extended").GetProperty("color").GetString());

            using var shutdown = await sidecar.Http.PostAsync("/v1.0/shutdown", null, TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.NoContent, shutdown.StatusCode);
            await Poll.UntilAsync(() => !ProcessInfo.IsRunning(sidecar.ProcessId), TimeSpan.FromSeconds(10));
        }
    }

    [Fact]
    public async Task Starts_in_well_under_a_second()
    {
        var resources = SidecarResources.Folder();
        var stopwatch = Stopwatch.StartNew();
        await using var sidecar = await Sidecars.StartAsync("fast", resources);
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(3), $"took {stopwatch.Elapsed}");
    }

    [Fact]
    public async Task Bad_arguments_and_invalid_yaml_stop_start_up_naming_file_and_field()
    {
        var (exitCode, output) = await Sidecars.RunToExitAsync("--dapr-http-port", "3500");
        Assert.NotEqual(0, exitCode);
        Assert.Contains("--app-id is required", output, StringComparison.Ordinal);

        var resources = SidecarResources.Folder(("bad.yaml", """
            apiVersion: dapr.io/v1alpha1
            kind: Component
            metadata:
              name: store
            spec:
              type: state.mongodb
              version: v1
            """));
        (exitCode, output) = await Sidecars.RunToExitAsync("--app-id", "x", "--resources-path", resources);
        Assert.NotEqual(0, exitCode);
        Assert.Contains("bad.yaml: spec.type: 'state.mongodb' is not supported", output, StringComparison.Ordinal);

        var subscription = SidecarResources.Folder(("sub.yaml", """
            apiVersion: dapr.io/v2alpha1
            kind: Subscription
            metadata:
              name: s
            spec:
              pubsubname: pubsub
              topic: orders
              routes:
                rules:
                - match: event.type.startsWith("x")
                  path: /x
            """));
        (exitCode, output) = await Sidecars.RunToExitAsync("--app-id", "x", "--resources-path", subscription);
        Assert.NotEqual(0, exitCode);
        Assert.Contains("sub.yaml: spec.routes.rules[0].match:", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Components_scoped_to_other_apps_are_not_loaded()
    {
        var resources = SidecarResources.Folder(("scoped.yaml", """
            apiVersion: dapr.io/v1alpha1
            kind: Component
            metadata:
              name: elsewhere
            spec:
              type: state.mongodb
              version: v1
            scopes:
            - another-app
            """));
        await using var sidecar = await Sidecars.StartAsync("scoped", resources);
        using var response = await sidecar.Http.GetAsync("/v1.0/state/elsewhere/k", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Contains("ERR_STATE_STORE_NOT_CONFIGURED", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
    }
}

[CollectionDefinition(nameof(RuntimeTests), DisableParallelization = true)]
public sealed class RunsAlone;
