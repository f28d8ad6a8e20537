using System.Diagnostics;
using Aspire.Hosting.Dapr;

namespace CloudScale.Testing;

/// <summary>How to run one sidecar: its app, resources, environment and its HTTP and gRPC ports (chosen before it starts, so a client can wait for it).</summary>
public sealed record SidecarSettings(string AppId, string ResourcesPath)
{
    public int HttpPort { get; init; } = LoopbackPorts.Free();

    /// <summary>Always passed: daprd's default, 50001, would collide between sidecars.</summary>
    public int GrpcPort { get; init; } = LoopbackPorts.Free();

    public int? AppPort { get; init; }

    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>CloudScale's sidecar unless a test asks for what the AppHost would run (<see cref="DaprSidecarRuntime.Find"/>: daprd when installed).</summary>
    public DaprSidecarRuntime Runtime { get; init; } = DaprSidecarRuntime.CloudScale();

    /// <summary>What <see cref="DaprSidecar.StartAsync"/> waits for; <c>/v1.0/healthz</c> holds once components are loaded and the app is reached.</summary>
    public string ReadinessPath { get; init; } = "/v1.0/healthz";

    public TimeSpan StartDeadline { get; init; } = TimeSpan.FromSeconds(30);
}

/// <summary>
/// A real sidecar process (by default the build of <c>platform/Sidecar</c> the AppHost runs), registered with the test
/// servers' reaper so that a crashed test run leaves none behind. Its console output is kept for failure messages.
/// </summary>
public sealed class DaprSidecar : IAsyncDisposable
{
    private readonly TrackedProcess _process;

    private DaprSidecar(SidecarSettings settings)
    {
        Settings = settings;
        List<string> arguments =
        [
            "--app-id", settings.AppId,
            "--dapr-http-port", settings.HttpPort.ToString(),
            "--dapr-grpc-port", settings.GrpcPort.ToString(),
            "--resources-path", settings.ResourcesPath,
            "--log-level", "warn",
        ];
        if (settings.AppPort is { } appPort)
        {
            arguments.AddRange(["--app-port", appPort.ToString()]);
        }

        var start = StartInfo(settings.Runtime, arguments);
        foreach (var (name, value) in settings.Environment)
        {
            start.Environment[name] = value;
        }

        _process = TrackedProcess.Start(start, "dapr-sidecar");
        Http = new HttpClient { BaseAddress = HttpEndpoint };
    }

    public SidecarSettings Settings { get; }

    public Uri HttpEndpoint => new($"http://127.0.0.1:{Settings.HttpPort}/");

    public Uri GrpcEndpoint => new($"http://127.0.0.1:{Settings.GrpcPort}/");

    /// <summary>A client of its HTTP API, disposed with it.</summary>
    public HttpClient Http { get; }

    public int ProcessId => _process.Id;

    public string Output => _process.Output;

    /// <summary>Starts the process without waiting for it.</summary>
    public static DaprSidecar Launch(SidecarSettings settings) => new(settings);

    /// <summary>Starts the process and waits until <see cref="SidecarSettings.ReadinessPath"/> answers with success.</summary>
    public static async Task<DaprSidecar> StartAsync(SidecarSettings settings)
    {
        var sidecar = Launch(settings);
        try
        {
            await sidecar._process.WaitUntilAnswersAsync(sidecar.Http, settings.ReadinessPath, settings.StartDeadline);
            return sidecar;
        }
        catch
        {
            await sidecar.DisposeAsync();
            throw;
        }
    }

    /// <summary>The command line of <paramref name="runtime"/> with <paramref name="arguments"/>, without the test process's tokens.</summary>
    public static ProcessStartInfo StartInfo(DaprSidecarRuntime runtime, IEnumerable<string> arguments) =>
        TrackedProcess.WithoutTestSecrets(new ProcessStartInfo(runtime.Command, [.. runtime.LeadingArgs, .. arguments]));

    /// <summary>kill -9: what a crashed sidecar looks like to the app.</summary>
    public Task KillAsync() => _process.KillAsync();

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _process.DisposeAsync();
    }
}
