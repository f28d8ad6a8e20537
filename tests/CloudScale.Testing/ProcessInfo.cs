namespace CloudScale.Testing;

public static class ProcessInfo
{
    /// <summary>
    /// Whether a process exists and is not a zombie. An orphan's zombie keeps its /proc entry until some init
    /// reaps it, and not every container's PID 1 does so promptly; a zombie runs nothing and holds no port.
    /// </summary>
    public static bool IsRunning(int processId)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{processId}/stat");
            // Format: "pid (comm) state …"; comm may contain spaces and parentheses, so read after the last ')'.
            var state = stat[(stat.LastIndexOf(')') + 2)..][0];
            return state is not ('Z' or 'X');
        }
        catch (Exception exception) when (exception is FileNotFoundException or DirectoryNotFoundException or IOException)
        {
            return false;
        }
    }
}
