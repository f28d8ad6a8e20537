using System.Reflection;

namespace Aspire.Hosting.Dapr;

/// <summary>What runs a sidecar: daprd when installed (what Dapr users expect), else CloudScale's sidecar, built with this assembly.</summary>
public sealed record DaprSidecarRuntime(string Command, IReadOnlyList<string> LeadingArgs, bool IsDaprd)
{
    public static DaprSidecarRuntime Find() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(directory => Path.Combine(directory, "daprd")).FirstOrDefault(File.Exists) is { } daprd
            ? new DaprSidecarRuntime(daprd, [], IsDaprd: true)
            : CloudScale();

    /// <summary>
    /// CloudScale's sidecar: the native binary a Release build publishes beside it (a third of the memory), unless that
    /// is missing or older than the managed assembly (a build that skipped the native publish), else the assembly.
    /// </summary>
    public static DaprSidecarRuntime CloudScale()
    {
        var assembly = Metadata("CloudScaleSidecarAssembly");
        if (assembly is null || !File.Exists(assembly))
        {
            throw new InvalidOperationException(
                $"Neither daprd is on PATH nor CloudScale's sidecar is built (expected '{assembly}'): run 'dotnet build' on the AppHost.");
        }

        return Metadata("CloudScaleNativeSidecar") is { } native && File.Exists(native) && File.GetLastWriteTimeUtc(native) >= File.GetLastWriteTimeUtc(assembly)
            ? new DaprSidecarRuntime(native, [], IsDaprd: false)
            : new DaprSidecarRuntime("dotnet", [assembly], IsDaprd: false);
    }

    private static string? Metadata(string key) => typeof(DaprSidecarRuntime).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .FirstOrDefault(attribute => attribute.Key == key)?.Value;
}
