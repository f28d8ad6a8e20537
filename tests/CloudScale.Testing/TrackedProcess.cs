using System.Collections.Concurrent;
using System.Diagnostics;

namespace CloudScale.Testing;

/// <summary>
/// A child process registered with the test servers' reaper (so that a crashed run leaves none behind), its console
/// output kept for failure messages. Killing it is SIGKILL: what a crash looks like to everything else.
/// </summary>
public sealed class TrackedProcess : IAsyncDisposable
{
    private static int _instances;

    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private TrackedProcess(Process process, string name)
    {
        _process = process;
        Name = name;
    }

    /// <summary>What the reaper knows it by, unique in this test run.</summary>
    public string Name { get; }

    public int Id => _process.Id;

    /// <summary>Every line it has written to stdout and stderr so far.</summary>
    public string Output => string.Join('\n', _output);

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>Starts <paramref name="start"/> (its output redirected here) and registers it as <paramref name="name"/>-N.</summary>
    public static TrackedProcess Start(ProcessStartInfo start, string name)
    {
        ArgumentNullException.ThrowIfNull(start);
        start.UseShellExecute = false;
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {start.FileName}.");
        var tracked = new TrackedProcess(process, $"{name}-{Interlocked.Increment(ref _instances)}");
        TestServerRoot.Shared.Track(tracked.Name, process.Id);
        process.OutputDataReceived += (_, line) => tracked.Keep(line.Data);
        process.ErrorDataReceived += (_, line) => tracked.Keep(line.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return tracked;
    }

    // The test process's own tokens and telemetry endpoint must not leak into a server that a test means to run without them.
    private static readonly string[] VariablesNotInherited = ["DAPR_API_TOKEN", "APP_API_TOKEN", "OTEL_EXPORTER_OTLP_ENDPOINT"];

    /// <summary>Removes from <paramref name="start"/>'s environment what the test process has and a server started by a test must not inherit.</summary>
    public static ProcessStartInfo WithoutTestSecrets(ProcessStartInfo start)
    {
        ArgumentNullException.ThrowIfNull(start);
        foreach (var name in VariablesNotInherited)
        {
            start.Environment.Remove(name);
        }

        return start;
    }

    /// <summary>Polls <c>GET <paramref name="path"/></c> through <paramref name="client"/> until it answers with success; fails early if the process exits.</summary>
    public Task WaitUntilAnswersAsync(HttpClient client, string path, TimeSpan deadline) =>
        WaitUntilAsync(
            async () =>
            {
                try
                {
                    using var response = await client.GetAsync(new Uri(path, UriKind.Relative));
                    return response.IsSuccessStatusCode;
                }
                catch (HttpRequestException)
                {
                    return false;
                }
            },
            deadline);

    /// <summary>Polls <paramref name="ready"/> until it holds; fails early, with the output, if the process exits.</summary>
    public Task WaitUntilAsync(Func<Task<bool>> ready, TimeSpan deadline) =>
        Poll.UntilAsync(
            async () => HasExited ? throw new InvalidOperationException($"{Name} exited with code {ExitCode}:\n{Output}") : await ready(),
            deadline,
            () => $"{Name} output:\n{Output}");

    /// <summary>Waits until the process ends by itself, and its output has been read to the end.</summary>
    public Task WaitForExitAsync(CancellationToken cancellationToken) => _process.WaitForExitAsync(cancellationToken);

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
        TestServerRoot.Shared.Untrack(Name);
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
