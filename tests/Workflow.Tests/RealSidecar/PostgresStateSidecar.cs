using System.Diagnostics;
using System.Net;
using Aspire.Hosting.Dapr;
using CloudScale.Testing;

namespace CloudScale.Workflow.RealSidecar;

/// <summary>
/// A real sidecar process, found the way the AppHost finds it (daprd on PATH, else CloudScale's sidecar), whose only
/// component is a <c>state.postgresql</c> v2 store: the transactional store <see cref="DaprStateWorkflowStore"/> needs.
/// </summary>
public sealed class PostgresStateSidecar : IAsyncDisposable
{
    public const string StoreName = "statestore";

    private static readonly TimeSpan StartDeadline = TimeSpan.FromSeconds(30);

    private readonly TrackedProcess _process;

    private PostgresStateSidecar(TrackedProcess process, int port)
    {
        _process = process;
        Endpoint = new Uri($"http://127.0.0.1:{port}");
    }

    public Uri Endpoint { get; }

    public int Port => Endpoint.Port;

    public static string Runtime => DaprSidecarRuntime.Find().IsDaprd ? "daprd" : "CloudScale.Sidecar";

    /// <summary>Starts a sidecar for <paramref name="appId"/> over the database and waits until it serves the state API.</summary>
    public static async Task<PostgresStateSidecar> StartAsync(string appId, string connectionString)
    {
        var resources = TestServerRoot.Shared.CreateDirectory($"workflow-sidecar-{Guid.NewGuid():N}");
        await File.WriteAllTextAsync(Path.Combine(resources, "statestore.yaml"), Component(connectionString));
        var port = LoopbackPorts.Free();
        var runtime = DaprSidecarRuntime.Find();
        var start = new ProcessStartInfo(runtime.Command);
        foreach (var argument in runtime.LeadingArgs.Concat(["--app-id", appId, "--dapr-http-port", port.ToString(), "--resources-path", resources, "--log-level", "warn"]))
        {
            start.ArgumentList.Add(argument);
        }

        // The caller's own tokens and telemetry settings must not leak into the sidecar.
        foreach (var inherited in new[] { "DAPR_API_TOKEN", "APP_API_TOKEN", "OTEL_EXPORTER_OTLP_ENDPOINT" })
        {
            start.Environment.Remove(inherited);
        }

        var sidecar = new PostgresStateSidecar(TrackedProcess.Start(start, "workflow-sidecar"), port);
        try
        {
            await sidecar.WaitUntilReadyAsync();
            return sidecar;
        }
        catch
        {
            await sidecar.DisposeAsync();
            throw;
        }
    }

    public ValueTask DisposeAsync() => _process.DisposeAsync();


    private static string Component(string connectionString) => $"""
        apiVersion: dapr.io/v1alpha1
        kind: Component
        metadata:
          name: {StoreName}
        spec:
          type: state.postgresql
          version: v2
          metadata:
          - name: connectionString
            value: "{connectionString}"
        """;

    private async Task WaitUntilReadyAsync()
    {
        using var probe = new HttpClient { BaseAddress = Endpoint };
        await Poll.UntilAsync(
            async () =>
            {
                if (_process.HasExited)
                {
                    throw new InvalidOperationException($"The sidecar exited with code {_process.ExitCode}:\n{_process.Output}");
                }

                try
                {
                    using var response = await probe.GetAsync(new Uri("/v1.0/healthz/outbound", UriKind.Relative));
                    return response.IsSuccessStatusCode;
                }
                catch (HttpRequestException)
                {
                    return false;
                }
            },
            StartDeadline,
            () => $"Sidecar output:\n{_process.Output}");
    }
}
