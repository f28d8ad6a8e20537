using System.Diagnostics;
using System.Reflection;
using Aspire.Hosting.Dapr;
using CloudScale.Testing;

namespace CloudScale.Workflow.Tests.Crashes;

/// <summary>
/// One of CloudScale's services run as the AppHost runs it, a process of its built assembly (whose path the project
/// records as <c>&lt;Name&gt;Assembly</c> metadata), on a loopback port (<see cref="LoopbackPorts.Free"/>) that a restart keeps, so that its
/// sidecar and callers find it again. Killing it is SIGKILL; everything it wrote to its console is kept across restarts.
/// </summary>
internal sealed class ServiceProcess(string name, int port, IReadOnlyDictionary<string, string> environment) : IAsyncDisposable
{
    private readonly List<string> _earlierOutput = [];
    private readonly string _assembly = typeof(ServiceProcess).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(attribute => attribute.Key == $"{name}Assembly").Value!;

    private TrackedProcess? _process;

    public Uri BaseAddress { get; } = new($"http://127.0.0.1:{port}/");

    /// <summary>Everything every run of it has written so far.</summary>
    public string Output => string.Join('\n', [.. _earlierOutput, _process?.Output ?? ""]);

    /// <summary>Starts it and waits until it answers <c>/alive</c>.</summary>
    public async Task StartAsync()
    {
        var start = TrackedProcess.WithoutTestSecrets(new ProcessStartInfo("dotnet", ["exec", _assembly]) { WorkingDirectory = Path.GetDirectoryName(_assembly) });
        start.Environment["ASPNETCORE_URLS"] = BaseAddress.ToString();
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        foreach (var (variable, value) in environment)
        {
            start.Environment[variable] = value;
        }

        _process = TrackedProcess.Start(start, name.ToLowerInvariant());
        using var probe = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
        await _process.WaitUntilAnswersAsync(probe, "/alive", TimeSpan.FromSeconds(60));
    }

    /// <summary>kill -9, then the same service again on the same port.</summary>
    public async Task KillAndRestartAsync()
    {
        await StopAsync();
        await StartAsync();
    }

    public async ValueTask DisposeAsync() => await StopAsync();

    private async Task StopAsync()
    {
        if (_process is not null)
        {
            await _process.DisposeAsync();
            _earlierOutput.Add(_process.Output);
            _process = null;
        }
    }
}
