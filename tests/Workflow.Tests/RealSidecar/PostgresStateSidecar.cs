using Aspire.Hosting.Dapr;
using CloudScale.Testing;

namespace CloudScale.Workflow.RealSidecar;

/// <summary>
/// A real sidecar, found the way the AppHost finds it (daprd on PATH, else CloudScale's sidecar), whose only component
/// is a <c>state.postgresql</c> v2 store: the transactional store <see cref="DaprStateWorkflowStore"/> needs.
/// </summary>
public static class PostgresStateSidecar
{
    public const string StoreName = "statestore";

    public static string Runtime => DaprSidecarRuntime.Find().IsDaprd ? "daprd" : "CloudScale.Sidecar";

    /// <summary>Starts a sidecar for <paramref name="appId"/> over the database and waits until it serves the state API.</summary>
    public static Task<DaprSidecar> StartAsync(string appId, string connectionString) =>
        DaprSidecar.StartAsync(new SidecarSettings(appId, SidecarResources.Folder(("statestore.yaml", SidecarResources.PostgresStateStore(StoreName, connectionString))))
        {
            Runtime = DaprSidecarRuntime.Find(),
            // It serves no app: components loaded is all there is to wait for.
            ReadinessPath = "/v1.0/healthz/outbound",
        });
}
