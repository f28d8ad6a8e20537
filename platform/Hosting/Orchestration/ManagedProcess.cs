using System.Diagnostics;

namespace Aspire.Hosting.Orchestration;

/// <summary>What a resource's processes wrote, kept in memory (for the dashboard) and appended to a file.</summary>
public sealed class ResourceLog : IDisposable
{
    private const int Capacity = 2000;
    private readonly Queue<string> _lines = new();
    private readonly StreamWriter _file;
    private readonly Lock _gate = new();

    public ResourceLog(string path)
    {
        Path = path;
        System.IO.Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        _file = new StreamWriter(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true };
    }

    public string Path { get; }

    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_gate)
            {
                return [.. _lines];
            }
        }
    }

    public void Write(string line)
    {
        lock (_gate)
        {
            if (_lines.Count == Capacity)
            {
                _lines.Dequeue();
            }

            _lines.Enqueue(line);
            _file.WriteLine(line);
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _file.Dispose();
        }
    }
}

/// <summary>A child process whose output goes to a <see cref="ResourceLog"/> and whose pid the reaper knows.</summary>
internal sealed class ManagedProcess : IDisposable
{
    private readonly Process _process;
    private readonly ProcessReaper _reaper;
    private readonly string _name;
    private readonly TaskCompletionSource<int> _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ManagedProcess(string name, Process process, ProcessReaper reaper)
    {
        _name = name;
        _process = process;
        _reaper = reaper;
    }

    public int Id => _process.Id;

    public Task<int> Exited => _exited.Task;

    public static ManagedProcess Start(string name, ProcessStartInfo start, ResourceLog log, ProcessReaper reaper)
    {
        start.UseShellExecute = false;
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.RedirectStandardInput = true;
        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) => Append(log, e.Data);
        process.ErrorDataReceived += (_, e) => Append(log, e.Data);
        process.Start();
        var managed = new ManagedProcess(name, process, reaper);
        reaper.Track(name, process.Id);
        process.Exited += (_, _) =>
        {
            reaper.Untrack(name);
            managed._exited.TrySetResult(process.ExitCode);
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (process.HasExited)
        {
            managed._exited.TrySetResult(process.ExitCode);
        }

        return managed;
    }

    /// <summary>Sends <paramref name="signal"/> (graceful), then kills the process if it outlives <paramref name="grace"/>.</summary>
    public async Task StopAsync(string signal, TimeSpan grace)
    {
        if (_exited.Task.IsCompleted)
        {
            return;
        }

        using (var kill = Process.Start(new ProcessStartInfo("/bin/kill") { ArgumentList = { "-" + signal, _process.Id.ToString() } }))
        {
            await kill!.WaitForExitAsync();
        }

        if (await Task.WhenAny(_exited.Task, Task.Delay(grace)) != _exited.Task)
        {
            Kill();
            await _exited.Task.WaitAsync(TimeSpan.FromSeconds(10));
        }
    }

    public void Kill()
    {
        try
        {
            _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Exited meanwhile.
        }
    }

    public void Dispose()
    {
        if (!_exited.Task.IsCompleted)
        {
            Kill();
        }

        _reaper.Untrack(_name);
        _process.Dispose();
    }

    private static void Append(ResourceLog log, string? line)
    {
        if (line is not null)
        {
            log.Write(line);
        }
    }
}
