using System.Diagnostics;

namespace Aspire.Hosting.Orchestration;

/// <summary>
/// Guarantees no orphans: a <c>reaper.sh</c> process watches this process and, when it exits for any reason
/// (kill -9 included), kills every process registered here and removes the working directory.
/// </summary>
public sealed class ProcessReaper : IDisposable
{
    private readonly Process _watcher;
    private int _disposed;

    private ProcessReaper(string directory, Process watcher)
    {
        Directory = directory;
        _watcher = watcher;
    }

    public string Directory { get; }

    public static ProcessReaper Start(string directory)
    {
        System.IO.Directory.CreateDirectory(directory);
        // Servers that run as their own user (postgres) keep throwaway data below this directory.
        File.SetUnixFileMode(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute |
            UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        var script = Path.Combine(AppContext.BaseDirectory, "reaper.sh");
        var watcher = Process.Start(new ProcessStartInfo("/bin/bash")
        {
            ArgumentList = { script, Environment.ProcessId.ToString(), directory },
            UseShellExecute = false,
        }) ?? throw new InvalidOperationException("Could not start reaper.sh.");
        return new ProcessReaper(directory, watcher);
    }

    public void Track(string name, int processId) => File.WriteAllText(PidFile(name), processId.ToString());

    public void Untrack(string name)
    {
        try
        {
            File.Delete(PidFile(name));
        }
        catch (DirectoryNotFoundException)
        {
            // Disposed already: the process was killed and its record removed with the directory.
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        foreach (var pidFile in System.IO.Directory.Exists(Directory) ? System.IO.Directory.GetFiles(Directory, "*.pid") : [])
        {
            if (int.TryParse(File.ReadAllText(pidFile), out var processId))
            {
                TryKill(processId);
            }
        }

        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }

        _watcher.Kill();
        _watcher.Dispose();
    }

    private static void TryKill(int processId)
    {
        try
        {
            using var process = Process.GetProcessById(processId);
            process.Kill(entireProcessTree: true);
        }
        catch (Exception exception) when (exception is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            // Already gone.
        }
    }

    private string PidFile(string name) => Path.Combine(Directory, name + ".pid");
}
