namespace CloudScale.Testing;

public static class ProcessInfo
{
    /// <summary>
    /// Whether a process exists and is not a zombie. An orphan's zombie keeps its /proc entry until some init
    /// reaps it, and not every container's PID 1 does so promptly; a zombie runs nothing and holds no port.
    /// </summary>
    public static bool IsRunning(int processId) => StatFields(processId) is [var state, ..] && state is not ("Z" or "X");

    /// <summary>Every running process below <paramref name="processId"/> in the process tree.</summary>
    public static IReadOnlyList<int> DescendantsOf(int processId)
    {
        var parents = new Dictionary<int, int>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(directory), out var candidate) && StatFields(candidate) is [_, var parent, ..])
            {
                parents[candidate] = int.Parse(parent);
            }
        }

        var descendants = new List<int>();
        var frontier = new Queue<int>([processId]);
        while (frontier.TryDequeue(out var current))
        {
            foreach (var (child, _) in parents.Where(entry => entry.Value == current))
            {
                descendants.Add(child);
                frontier.Enqueue(child);
            }
        }

        return [.. descendants.Where(IsRunning)];
    }

    /// <summary>The fields of /proc/PID/stat after "pid (comm)": state, ppid, …; null when the process is gone.</summary>
    private static string[]? StatFields(int processId)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{processId}/stat");
            // comm may contain spaces and parentheses, so read after the last ')'.
            return stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        }
        catch (Exception exception) when (exception is FileNotFoundException or DirectoryNotFoundException or IOException)
        {
            return null;
        }
    }
}
