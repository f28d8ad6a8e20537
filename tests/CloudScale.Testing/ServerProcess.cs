using System.Diagnostics;
using System.Net.Sockets;

namespace CloudScale.Testing;

/// <summary>
/// One run of a server binary whose stdout and stderr go to a log file (not a pipe, so the server never
/// blocks on us), tracked by the reaper for as long as it runs.
/// </summary>
internal sealed class ServerProcess : IDisposable
{
    private readonly Process _process;
    private readonly string _name;

    private ServerProcess(string name, Process process)
    {
        _name = name;
        _process = process;
        TestServerRoot.Shared.Track(name, process.Id);
    }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>Starts <paramref name="command"/>, as <paramref name="runAsUser"/> when given, appending its output to <paramref name="logFile"/>.</summary>
    public static ServerProcess Start(string name, string logFile, string? runAsUser, string command, params IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(runAsUser is null ? "/bin/sh" : "/usr/bin/setpriv") { UseShellExecute = false };
        if (runAsUser is not null)
        {
            foreach (var argument in new[] { $"--reuid={runAsUser}", $"--regid={runAsUser}", "--init-groups", "/bin/sh" })
            {
                start.ArgumentList.Add(argument);
            }
        }

        // exec keeps the server's pid the one we track; the redirection sends its output straight to the file.
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("exec \"$0\" \"$@\" >>\"$SERVER_LOG\" 2>&1");
        start.ArgumentList.Add(command);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["SERVER_LOG"] = logFile;
        var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {command}.");
        return new ServerProcess(name, process);
    }

    /// <summary>Asks the server to stop with <paramref name="signal"/>, then kills it if it has not stopped within <paramref name="grace"/>.</summary>
    public async Task StopAsync(string signal, TimeSpan grace)
    {
        if (!_process.HasExited)
        {
            Signal(signal);
            using var timeout = new CancellationTokenSource(grace);
            try
            {
                await _process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                Kill();
            }
        }

        Dispose();
    }

    /// <summary>kill -9: what a crash looks like to clients.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit(TimeSpan.FromSeconds(10));
        }

        Dispose();
    }

    public void Dispose()
    {
        TestServerRoot.Shared.Untrack(_name);
        _process.Dispose();
    }

    private void Signal(string signal)
    {
        using var kill = Process.Start(new ProcessStartInfo("/bin/kill") { ArgumentList = { "-" + signal, _process.Id.ToString() } });
        kill?.WaitForExit();
    }


    /// <summary>Polls <paramref name="ready"/> until it holds, the process dies, or the deadline passes; fails with the log.</summary>
    public async Task WaitUntilReadyAsync(Func<CancellationToken, Task<bool>> ready, TimeSpan deadline, string logFile)
    {
        var stopwatch = Stopwatch.StartNew();
        while (stopwatch.Elapsed < deadline)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"{_name} exited with code {_process.ExitCode} while starting.\n{Tail(logFile)}");
            }

            using var attempt = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            try
            {
                if (await ready(attempt.Token))
                {
                    return;
                }
            }
            catch (Exception exception) when (exception is SocketException or IOException or OperationCanceledException or Npgsql.NpgsqlException)
            {
                // Not listening yet.
            }

            await Task.Delay(25);
        }

        throw new TimeoutException($"{_name} was not ready within {deadline.TotalSeconds:0.#} s.\n{Tail(logFile)}");
    }

    public static string Tail(string logFile, int lines = 40) =>
        File.Exists(logFile)
            ? $"--- last lines of {logFile} ---\n" + string.Join('\n', File.ReadLines(logFile).TakeLast(lines))
            : $"(no log at {logFile})";
}
