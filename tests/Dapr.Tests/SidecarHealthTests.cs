using System.Net;
using System.Text.Json;
using CloudScale.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace CloudScale.Dapr.Tests;

/// <summary>Waiting for the sidecar, probing it, and its readiness check inside ServiceDefaults' <c>/health</c>.</summary>
public sealed class SidecarHealthTests
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task WaitForSidecarAsync_returns_once_the_sidecar_serves_calls_even_before_it_reaches_the_app()
    {
        // The app port names an app that never listens: outbound ready, never fully healthy.
        var settings = new SidecarSettings("late", SidecarResources.Folder()) { AppPort = LoopbackPorts.Free() };
        using var dapr = new DaprClientBuilder().UseHttpEndpoint($"http://127.0.0.1:{settings.HttpPort}").Build();
        var waiting = dapr.WaitForSidecarAsync(Cancellation);
        Assert.False(waiting.IsCompleted);

        await using var sidecar = DaprSidecar.Launch(settings);
        await waiting.WaitAsync(TimeSpan.FromSeconds(30), Cancellation);

        Assert.True(await dapr.CheckOutboundHealthAsync(Cancellation));
        Assert.False(await dapr.CheckHealthAsync(Cancellation));
    }

    [Fact]
    public async Task An_unreachable_sidecar_is_unhealthy_and_waiting_for_it_can_be_cancelled()
    {
        using var dapr = new DaprClientBuilder().UseHttpEndpoint($"http://127.0.0.1:{LoopbackPorts.Free()}").UseTimeout(TimeSpan.FromSeconds(5)).Build();

        Assert.False(await dapr.CheckHealthAsync(Cancellation));
        Assert.False(await dapr.CheckOutboundHealthAsync(Cancellation));
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Cancellation);
        deadline.CancelAfter(TimeSpan.FromMilliseconds(300));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => dapr.WaitForSidecarAsync(deadline.Token));
    }

    [Fact]
    public async Task The_readiness_check_reports_the_sidecar_in_health_and_not_in_alive()
    {
        await using var sidecar = await DaprSidecar.StartAsync(new SidecarSettings("checked", SidecarResources.Folder()));
        await using var app = await TestApp.StartAsync(
            _ => { },
            builder =>
            {
                builder.Services.AddDaprClient();
                builder.Services.AddHealthChecks().AddDaprSidecar();
            },
            new Dictionary<string, string?>(StringComparer.Ordinal) { ["DAPR_HTTP_PORT"] = sidecar.Settings.HttpPort.ToString() },
            serviceDefaults: true);

        var (status, dapr) = await HealthAsync(app, "/health");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("Healthy", dapr!.Value.GetProperty("status").GetString());
        Assert.Equal(["ready"], dapr.Value.GetProperty("tags").EnumerateArray().Select(tag => tag.GetString()!), StringComparer.Ordinal);
        Assert.Null((await HealthAsync(app, "/alive")).Dapr);

        await sidecar.KillAsync();

        (status, dapr) = await HealthAsync(app, "/health");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Equal("Unhealthy", dapr!.Value.GetProperty("status").GetString());
    }

    [Fact]
    public async Task Without_configuration_the_client_finds_the_sidecar_through_DAPR_HTTP_PORT_in_the_environment()
    {
        await using var sidecar = await DaprSidecar.StartAsync(new SidecarSettings("environment", SidecarResources.Folder()));
        DaprClient dapr;
        // Only this test sets the variable; every other client in this assembly is given its endpoint explicitly.
        Environment.SetEnvironmentVariable("DAPR_HTTP_PORT", sidecar.Settings.HttpPort.ToString());
        try
        {
            dapr = new DaprClientBuilder().Build();
        }
        finally
        {
            Environment.SetEnvironmentVariable("DAPR_HTTP_PORT", null);
        }

        using (dapr)
        {
            Assert.True(await dapr.CheckHealthAsync(Cancellation));
        }
    }

    private static async Task<(HttpStatusCode Status, JsonElement? Dapr)> HealthAsync(TestApp app, string path)
    {
        using var response = await app.Client.GetAsync(path, Cancellation);
        using var report = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Cancellation));
        var dapr = report.RootElement.GetProperty("checks").EnumerateArray().Where(check => check.GetProperty("name").GetString() == "dapr").Select(check => (JsonElement?)check.Clone()).SingleOrDefault();
        return (response.StatusCode, dapr);
    }
}
