using System.Diagnostics;

namespace CloudScale.Testing;

/// <summary>
/// The temporary directory that holds every throwaway server of this process, watched by <c>reaper.sh</c>:
/// if this process dies without cleaning up, the reaper kills the servers and deletes the directory.
/// </summary>
public sealed class TestServerRoot : IDisposable
{
    private const string Prefix = "cloudscale-test-";
    private static readonly Lazy<TestServerRoot> Instance = new(() => new TestServerRoot());
    private readonly Process _reaper;
    private int _disposed;

    private TestServerRoot()
    {
        RemoveLeftoversOfDeadProcesses();
        Path = Directory.CreateTempSubdirectory($"{Prefix}{Environment.ProcessId}-").FullName;
        // Postgres runs as the postgres user when we are root and must be able to reach its directory.
        File.SetUnixFileMode(Path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute |
            UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);

        var reaperScript = System.IO.Path.Combine(AppContext.BaseDirectory, "reaper.sh");
        _reaper = Process.Start(new ProcessStartInfo("/bin/bash")
        {
            ArgumentList = { reaperScript, Environment.ProcessId.ToString(), Path },
            UseShellExecute = false,
        }) ?? throw new InvalidOperationException("Could not start reaper.sh.");
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Dispose();
    }

    public static TestServerRoot Shared => Instance.Value;

    public string Path { get; }

    public string CreateDirectory(string name) => Directory.CreateDirectory(System.IO.Path.Combine(Path, name)).FullName;

    /// <summary>Registers a running server with the reaper.</summary>
    public void Track(string name, int processId) => File.WriteAllText(PidFile(name), processId.ToString());

    public void Untrack(string name) => File.Delete(PidFile(name));

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        foreach (var pidFile in Directory.Exists(Path) ? Directory.GetFiles(Path, "*.pid") : [])
        {
            TryKill(int.Parse(File.ReadAllText(pidFile)));
        }

        KeepServerLogs();
        TryDelete(Path);
        _reaper.Kill();
        _reaper.Dispose();
    }

    /// <summary>
    /// Copies every server log to <c>$CLOUDSCALE_TEST_SERVER_LOGS</c> (test.sh sets it and prints them when a run
    /// fails) before the directory goes, so a failure can be read alongside what Redis and Postgres said.
    /// </summary>
    private void KeepServerLogs()
    {
        var destination = Environment.GetEnvironmentVariable("CLOUDSCALE_TEST_SERVER_LOGS");
        if (string.IsNullOrEmpty(destination) || !Directory.Exists(Path))
        {
            return;
        }

        Directory.CreateDirectory(destination);
        var owner = System.Reflection.Assembly.GetEntryAssembly()?.GetName().Name ?? "tests";
        foreach (var log in Directory.EnumerateFiles(Path, "*.log", SearchOption.AllDirectories))
        {
            var server = System.IO.Path.GetFileName(System.IO.Path.GetDirectoryName(log)!);
            File.Copy(log, System.IO.Path.Combine(destination, $"{owner}-{Environment.ProcessId}-{server}.log"), overwrite: true);
        }
    }

    internal static void TryKill(int processId)
    {
        try
        {
            using var process = Process.GetProcessById(processId);
            process.Kill(entireProcessTree: true);
            process.WaitForExit(TimeSpan.FromSeconds(5));
        }
        catch (Exception exception) when (exception is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            // Already gone.
        }
    }

    private string PidFile(string name) => System.IO.Path.Combine(Path, name + ".pid");

    private static void TryDelete(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }

    /// <summary>A run killed before its reaper could act (e.g. the machine rebooted) leaves a directory: sweep those of dead owners.</summary>
    private static void RemoveLeftoversOfDeadProcesses()
    {
        foreach (var directory in Directory.GetDirectories(System.IO.Path.GetTempPath(), Prefix + "*"))
        {
            var ownerText = System.IO.Path.GetFileName(directory)[Prefix.Length..].Split('-')[0];
            if (int.TryParse(ownerText, out var owner) && !Directory.Exists($"/proc/{owner}"))
            {
                foreach (var pidFile in Directory.GetFiles(directory, "*.pid"))
                {
                    if (int.TryParse(File.ReadAllText(pidFile), out var pid))
                    {
                        TryKill(pid);
                    }
                }

                TryDelete(directory);
            }
        }
    }
}
