using System.Diagnostics;
using Aspire.Hosting.Dapr;
using CloudScale.Testing;

namespace CloudScale.Sidecar.Benchmarks;

/// <summary>One sidecar process on a free loopback port, found the way the AppHost finds it (daprd, else CloudScale's).</summary>
internal sealed class SidecarProcess : IAsyncDisposable
{
    private readonly Process _process;

    private SidecarProcess(string appId, Process process, int port, int grpcPort)
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
        var start = new ProcessStartInfo(runtime.Command) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
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
        var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {runtime.Command}.");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, line) =>
        {
            if (line.Data is not null)
            {
                Console.Error.WriteLine($"[{appId}] {line.Data}");
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var sidecar = new SidecarProcess(appId, process, port, grpcPort);
        using var probe = new HttpClient();
        await Poll.UntilAsync(async () =>
        {
            try
            {
                using var response = await probe.GetAsync(new Uri(sidecar.Endpoint, "/v1.0/healthz/outbound"));
                return response.IsSuccessStatusCode;
            }
            catch (HttpRequestException) when (!process.HasExited)
            {
                return false;
            }
        }, TimeSpan.FromSeconds(30), () => $"Sidecar {appId} did not become healthy.");
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

    public async ValueTask DisposeAsync()
    {
        _process.Kill();
        await _process.WaitForExitAsync();
        _process.Dispose();
    }
}
