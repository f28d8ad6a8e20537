using System.Reflection;

namespace Aspire.Hosting.Dapr;

/// <summary>What runs a sidecar: daprd when installed (what Dapr users expect), else CloudScale's sidecar, built with this assembly.</summary>
public sealed record DaprSidecarRuntime(string Command, IReadOnlyList<string> LeadingArgs, bool IsDaprd)
{
    public static DaprSidecarRuntime Find()
    {
        if (Orchestration.Prerequisites.FindOnPath("daprd") is { } daprd)
        {
            return new DaprSidecarRuntime(daprd, [], IsDaprd: true);
        }

        var assembly = typeof(DaprSidecarRuntime).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(attribute => attribute.Key == "CloudScaleSidecarAssembly")?.Value;
        return assembly is not null && File.Exists(assembly)
            ? new DaprSidecarRuntime("dotnet", [assembly], IsDaprd: false)
            : throw new DistributedApplicationException(
                $"Neither daprd is on PATH nor CloudScale's sidecar is built (expected '{assembly}'): run 'dotnet build' on the AppHost.");
    }
}
