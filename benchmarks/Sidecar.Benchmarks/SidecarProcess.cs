using System.Diagnostics;
using Aspire.Hosting.Dapr;
using CloudScale.Testing;

namespace CloudScale.Sidecar.Benchmarks;

/// <summary>One sidecar process on a free loopback port, found the way the AppHost finds it (daprd, else CloudScale's).</summary>
internal sealed class SidecarProcess : IAsyncDisposable
{
    private readonly TrackedProcess _process;

    private SidecarProcess(string appId, TrackedProcess process, int port, int grpcPort)
    {
        AppId = appId;
        _process = process;
        Endpoint = new Uri($"http://127.0.0.1:{port}");
        GrpcEndpoint = new Uri($"http://127.0.0.1:{grpcPort}");
    }

    public string AppId { get; }

    public int ProcessId => _process.Id;

    public Uri Endpoint { get; }

    public Uri GrpcEndpoint { get; }

    public static string Runtime => DaprSidecarRuntime.Find() is { IsDaprd: true } ? "daprd" : "CloudScale.Sidecar";

    public static async Task<SidecarProcess> StartAsync(string appId, int port, int? appPort, string resourcesPath, string nameResolutionFile)
    {
        var runtime = DaprSidecarRuntime.Find();
        var grpcPort = LoopbackPorts.Free();
        var start = new ProcessStartInfo(runtime.Command);
        foreach (var argument in runtime.LeadingArgs.Concat(["--app-id", appId, "--dapr-http-port", port.ToString(), "--dapr-grpc-port", grpcPort.ToString(), "--resources-path", resourcesPath, "--log-level", "warn"]))
        {
            start.ArgumentList.Add(argument);
        }

        if (appPort is not null)
        {
            start.ArgumentList.Add("--app-port");
            start.ArgumentList.Add(appPort.Value.ToString());
        }

        start.Environment["CLOUDSCALE_NAME_RESOLUTION_FILE"] = nameResolutionFile;
        var sidecar = new SidecarProcess(appId, TrackedProcess.Start(start, $"sidecar-{appId}"), port, grpcPort);
        using var probe = new HttpClient { BaseAddress = sidecar.Endpoint };
        await sidecar._process.WaitUntilAnswersAsync(probe, "/v1.0/healthz/outbound", TimeSpan.FromSeconds(30));
        return sidecar;
    }

    /// <summary>
    /// Resident memory (/proc status: now and peak), and of it what the process alone holds (anonymous: heaps, stacks,
    /// JIT code) and its proportional share of everything (PSS: shared framework files counted once per sharer).
    /// </summary>
    public SidecarMemory Memory()
    {
        var status = File.ReadAllLines($"/proc/{ProcessId}/status");
        var rollup = File.ReadAllLines($"/proc/{ProcessId}/smaps_rollup");
        return new SidecarMemory(AppId, Kilobytes(status, "VmRSS:") / 1024.0, Kilobytes(status, "VmHWM:") / 1024.0,
            Kilobytes(rollup, "Anonymous:") / 1024.0, Kilobytes(rollup, "Pss:") / 1024.0);

        static long Kilobytes(string[] lines, string field) =>
            long.Parse(lines.First(line => line.StartsWith(field, StringComparison.Ordinal))[field.Length..].Trim().Split(' ')[0]);
    }

    public ValueTask DisposeAsync() => _process.DisposeAsync();
}
