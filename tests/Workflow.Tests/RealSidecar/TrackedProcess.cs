using System.Collections.Concurrent;
using System.Diagnostics;
using CloudScale.Testing;

namespace CloudScale.Workflow.RealSidecar;

/// <summary>
/// A child process registered with the test servers' reaper (so that a crashed run leaves none behind), its console
/// output kept for failure messages. Killing it is SIGKILL: what a crash looks like to everything else.
/// </summary>
public sealed class TrackedProcess : IAsyncDisposable
{
    private static int _instances;

    private readonly Process _process;
    private readonly string _trackingName;
    private readonly ConcurrentQueue<string> _output = new();

    private TrackedProcess(Process process, string trackingName)
    {
        _process = process;
        _trackingName = trackingName;
    }

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
        var tracked = new TrackedProcess(process, $"{name}-{Environment.ProcessId}-{Interlocked.Increment(ref _instances)}");
        TestServerRoot.Shared.Track(tracked._trackingName, process.Id);
        process.OutputDataReceived += (_, line) => tracked.Keep(line.Data);
        process.ErrorDataReceived += (_, line) => tracked.Keep(line.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return tracked;
    }

    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
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
