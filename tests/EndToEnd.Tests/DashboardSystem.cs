namespace CloudScale.EndToEnd.Tests;

/// <summary>
/// CloudScale with Aspire's dashboard on (the testing builder turns it off by default); every resource sends its telemetry
/// to the dashboard. Order runs two replicas, each with its own sidecar, as on Container Apps.
/// </summary>
public sealed class DashboardSystem : CloudScaleSystem
{
    private const string DashboardResource = "aspire-dashboard";

    protected override bool WithDashboard => true;

    protected override IEnumerable<string> AppHostArguments => [.. base.AppHostArguments, "--AppHost:OrderReplicas=2"];

    /// <summary>The login URL, with its token, as the AppHost gave them to the dashboard (the testing builder picks the port).</summary>
    public Uri LoginUrl()
    {
        if (!App.ResourceNotifications.TryGetCurrentState(DashboardResource, out var dashboard))
        {
            throw new InvalidOperationException("The dashboard resource has no state.");
        }

        // The frontend's endpoint; the dashboard's OTLP and resource-service endpoints are listed beside it.
        var url = dashboard.Snapshot.Urls.FirstOrDefault(url => url.Name == "http")?.Url
            ?? throw new InvalidOperationException("The dashboard lists no http endpoint: " + string.Join(", ", dashboard.Snapshot.Urls.Select(url => $"{url.Name}={url.Url}")));
        var token = dashboard.Snapshot.EnvironmentVariables.Single(variable => variable.Name == "DASHBOARD__FRONTEND__BROWSERTOKEN").Value;
        return new Uri(new Uri(url), $"/login?t={token}");
    }
}
