using System.Diagnostics;
using System.Reflection;
using CloudScale.Testing;

namespace CloudScale.Workflow.Tests.Crashes;

/// <summary>Starts processes of tests/TestApps/WorkflowHost, each talking to the sidecar on the given port.</summary>
internal static class HostReplica
{
    private static readonly string HostAssembly = typeof(HostReplica).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(attribute => attribute.Key == "WorkflowHostAssembly").Value!;

    public static TrackedProcess Start(int sidecarPort, string observationsConnectionString)
    {
        var start = new ProcessStartInfo("dotnet", ["exec", HostAssembly]);
        start.Environment["DAPR_HTTP_PORT"] = sidecarPort.ToString();
        start.Environment.Remove("DAPR_HTTP_ENDPOINT");
        start.Environment.Remove("DAPR_API_TOKEN");
        start.Environment["ConnectionStrings__Observations"] = observationsConnectionString;
        return TrackedProcess.Start(start, "workflow-host");
    }
}
