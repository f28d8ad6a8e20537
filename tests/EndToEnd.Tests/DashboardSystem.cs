using CloudScale.Testing;

namespace CloudScale.EndToEnd.Tests;

/// <summary>
/// CloudScale with Aspire's dashboard on (the testing builder turns it off by default), on free loopback ports, with a
/// login token the test knows; every resource sends its telemetry to the dashboard. Order runs two replicas, each with its
/// own sidecar, as on Container Apps.
/// </summary>
public sealed class DashboardSystem : CloudScaleSystem
{
    public string BrowserToken { get; } = Guid.NewGuid().ToString("N");

    public Uri DashboardUrl { get; } = new($"http://localhost:{LoopbackPorts.Free()}");

    protected override bool WithDashboard => true;

    protected override IEnumerable<string> AppHostArguments =>
    [
        .. base.AppHostArguments,
        $"--ASPNETCORE_URLS={DashboardUrl}",
        $"--ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL=http://localhost:{LoopbackPorts.Free()}",
        $"--ASPIRE_RESOURCE_SERVICE_ENDPOINT_URL=http://localhost:{LoopbackPorts.Free()}",
        "--ASPIRE_ALLOW_UNSECURED_TRANSPORT=true",
        $"--AppHost:BrowserToken={BrowserToken}",
        "--AppHost:OrderReplicas=2",
    ];
}
