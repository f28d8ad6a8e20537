using System.Collections.Concurrent;
using System.Diagnostics;
using Aspire.Hosting.Dapr;
using CloudScale.Testing;

namespace CloudScale.Dapr.Tests.Support;

/// <summary>How to run one sidecar: its app, resources, environment and the HTTP port (chosen before it starts, so a client can wait for it).</summary>
public sealed record SidecarSettings(string AppId, string ResourcesPath)
{
    public int HttpPort { get; init; } = LoopbackPorts.Free();

    public int? AppPort { get; init; }

    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);
}

/// <summary>
/// A real <c>CloudScale.Sidecar</c> process (the build of <c>platform/Sidecar</c> the AppHost runs), registered with the test servers'
/// reaper so that a crashed test run leaves none behind. Its console output is kept for failure messages.
/// </summary>
public sealed class DaprSidecar : IAsyncDisposable
{
    private static readonly TimeSpan StartDeadline = TimeSpan.FromSeconds(30);
    private static readonly DaprSidecarRuntime Runtime = DaprSidecarRuntime.CloudScale();

    private static int _instances;
    private readonly Process _process;
    private readonly string _trackingName = $"dapr-sidecar-{Interlocked.Increment(ref _instances)}";
    private readonly ConcurrentQueue<string> _output = new();

    private DaprSidecar(SidecarSettings settings)
    {
        Settings = settings;
        var arguments = new List<string>(Runtime.LeadingArgs)
        {
            "--app-id", settings.AppId,
            "--dapr-http-port", settings.HttpPort.ToString(),
            "--resources-path", settings.ResourcesPath,
            "--log-level", "warn",
        };
        if (settings.AppPort is { } appPort)
        {
            arguments.AddRange(["--app-port", appPort.ToString()]);
        }

        var start = new ProcessStartInfo(Runtime.Command, arguments) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        // The test process's own tokens must not leak into a sidecar that a test means to run without them.
        foreach (var inherited in new[] { "DAPR_API_TOKEN", "APP_API_TOKEN", "OTEL_EXPORTER_OTLP_ENDPOINT" })
        {
            start.Environment.Remove(inherited);
        }

        foreach (var (name, value) in settings.Environment)
        {
            start.Environment[name] = value;
        }

        _process = Process.Start(start) ?? throw new InvalidOperationException($"{Runtime.Command} did not start.");
        TestServerRoot.Shared.Track(_trackingName, _process.Id);
        _process.OutputDataReceived += (_, line) => Keep(line.Data);
        _process.ErrorDataReceived += (_, line) => Keep(line.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public SidecarSettings Settings { get; }

    public Uri HttpEndpoint => new($"http://127.0.0.1:{Settings.HttpPort}/");

    public string Output => string.Join('\n', _output);

    /// <summary>Starts the process without waiting for it.</summary>
    public static DaprSidecar Launch(SidecarSettings settings) => new(settings);

    /// <summary>Starts the process and waits until <c>/v1.0/healthz</c> says it is fully ready (components loaded, app reached).</summary>
    public static async Task<DaprSidecar> StartAsync(SidecarSettings settings)
    {
        var sidecar = Launch(settings);
        try
        {
            await sidecar.WaitUntilAsync(static (client, cancellationToken) => client.CheckHealthAsync(cancellationToken));
            return sidecar;
        }
        catch
        {
            await sidecar.DisposeAsync();
            throw;
        }
    }

    /// <summary>A client of this sidecar, built as services build theirs, with <paramref name="apiToken"/> as its DAPR_API_TOKEN.</summary>
    public DaprClient CreateClient(string? apiToken = null) =>
        new DaprClientBuilder().UseHttpEndpoint(HttpEndpoint.ToString()).UseDaprApiToken(apiToken).Build();

    /// <summary>Polls <paramref name="probe"/> until it holds; fails early, with the sidecar's output, if the process exits.</summary>
    public async Task WaitUntilAsync(Func<DaprClient, CancellationToken, Task<bool>> probe)
    {
        using var client = CreateClient();
        await Poll.UntilAsync(
            async () => _process.HasExited
                ? throw new InvalidOperationException($"The sidecar exited with code {_process.ExitCode}:\n{Output}")
                : await probe(client, CancellationToken.None),
            StartDeadline,
            () => $"Sidecar output:\n{Output}");
    }

    /// <summary>kill -9: what a crashed sidecar looks like to the app.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        TestServerRoot.Shared.Untrack(_trackingName);
        _process.Dispose();
    }

    private void Keep(string? line)
    {
        if (line is not null)
        {
            _output.Enqueue(line);
        }
    }
}
