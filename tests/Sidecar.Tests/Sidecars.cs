using Aspire.Hosting.Dapr;
using CloudScale.Testing;

namespace CloudScale.Sidecar.Tests;

/// <summary>CloudScale's sidecar as these tests run it: started on a free loopback port, or run to the exit a bad start-up must end in.</summary>
internal static class Sidecars
{
    private static readonly TimeSpan StartDeadline = TimeSpan.FromSeconds(20);

    /// <summary>tests/Sidecar.Tests/bin/&lt;Configuration&gt;/net10.0, five levels up.</summary>
    public static string RepositoryRoot { get; } = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "../../../../.."));

    public static Task<DaprSidecar> StartAsync(string appId, string resourcesPath, int? appPort = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        var settings = new SidecarSettings(appId, resourcesPath) { AppPort = appPort, StartDeadline = StartDeadline };
        return DaprSidecar.StartAsync(environment is null ? settings : settings with { Environment = environment });
    }

    /// <summary>Runs the sidecar expecting it to refuse to start; returns its exit code and output.</summary>
    public static async Task<(int ExitCode, string Output)> RunToExitAsync(params string[] arguments)
    {
        await using var process = TrackedProcess.Start(DaprSidecar.StartInfo(DaprSidecarRuntime.CloudScale(), arguments), "refused-sidecar");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, process.Output);
    }
}
