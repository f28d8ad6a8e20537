using System.Diagnostics;
using System.Net;
using System.Text;
using Aspire.Hosting.Dapr;
using CloudScale.Testing;

namespace CloudScale.Sidecar.Tests;

/// <summary>A real sidecar process, the one the AppHost runs (native when built, else the assembly), on a free loopback port.</summary>
internal sealed class SidecarProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private SidecarProcess(Process process, int port)
    {
        _process = process;
        Port = port;
        Client = new HttpClient { BaseAddress = Endpoint };
    }

    public int Port { get; }

    public Uri Endpoint => new($"http://127.0.0.1:{Port}");

    public HttpClient Client { get; }

    public int ProcessId => _process.Id;

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>tests/Sidecar.Tests/bin/&lt;Configuration&gt;/net10.0, five levels up.</summary>
    public static string RepositoryRoot { get; } = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "../../../../.."));

    private static DaprSidecarRuntime Runtime { get; } = DaprSidecarRuntime.CloudScale();

    public static async Task<SidecarProcess> StartAsync(string appId, string resourcesPath, int? appPort = null, IReadOnlyDictionary<string, string>? environment = null, bool waitReady = true)
    {
        var port = LoopbackPorts.Free();
        var start = StartInfo(["--app-id", appId, "--dapr-http-port", port.ToString(), "--resources-path", resourcesPath, "--log-level", "warn"]);

        if (appPort is { } app)
        {
            start.ArgumentList.Add("--app-port");
            start.ArgumentList.Add(app.ToString());
        }

        start.Environment.Remove("DAPR_API_TOKEN");
        start.Environment.Remove("APP_API_TOKEN");
        foreach (var (name, value) in environment ?? new Dictionary<string, string>(StringComparer.Ordinal))
        {
            start.Environment[name] = value;
        }

        var process = Process.Start(start)!;
        var sidecar = new SidecarProcess(process, port);
        process.OutputDataReceived += (_, e) => sidecar.Append(e.Data);
        process.ErrorDataReceived += (_, e) => sidecar.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (waitReady)
        {
            await Poll.UntilAsync(
                async () =>
                {
                    if (process.HasExited)
                    {
                        throw new InvalidOperationException($"The sidecar exited with {process.ExitCode}: {sidecar.Output}");
                    }

                    try
                    {
                        using var response = await sidecar.Client.GetAsync("/v1.0/healthz");
                        return response.StatusCode == HttpStatusCode.NoContent;
                    }
                    catch (HttpRequestException)
                    {
                        return false;
                    }
                },
                TimeSpan.FromSeconds(20),
                () => sidecar.Output);
        }

        return sidecar;
    }

    /// <summary>Runs the sidecar expecting it to refuse to start; returns its exit code and output.</summary>
    public static async Task<(int ExitCode, string Output)> RunToExitAsync(params string[] arguments)
    {
        using var process = Process.Start(StartInfo(arguments))!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout + await stderr);
    }


    public void Kill() => _process.Kill(entireProcessTree: true);

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }

    private static ProcessStartInfo StartInfo(IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(Runtime.Command) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in Runtime.LeadingArgs.Concat(arguments))
        {
            start.ArgumentList.Add(argument);
        }

        return start;
    }
}
