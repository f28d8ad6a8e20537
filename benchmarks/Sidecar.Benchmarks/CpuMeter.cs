namespace CloudScale.Sidecar.Benchmarks;

/// <summary>
/// Where a measurement's time goes: the CPU time (user + system) each process taking part spent during it, read from
/// <c>/proc/&lt;pid&gt;/stat</c>, so that a figure can be divided by the operations done.
/// </summary>
internal sealed class CpuMeter(IReadOnlyList<(string Name, int ProcessId)> processes)
{
    // USER_HZ, the unit of /proc's utime and stime, is 100 on every Linux architecture .NET runs on.
    private const double TicksPerSecond = 100;

    public IReadOnlyDictionary<string, TimeSpan> Read() =>
        processes.ToDictionary(process => process.Name, process => CpuTime(process.ProcessId), StringComparer.Ordinal);

    public static IReadOnlyDictionary<string, double> MicrosecondsPerOperation(
        IReadOnlyDictionary<string, TimeSpan> before, IReadOnlyDictionary<string, TimeSpan> after, long operations) =>
        after.ToDictionary(
            entry => entry.Key,
            entry => operations == 0 ? double.NaN : (entry.Value - before[entry.Key]).TotalMicroseconds / operations,
            StringComparer.Ordinal);

    private static TimeSpan CpuTime(int processId)
    {
        var stat = File.ReadAllText($"/proc/{processId}/stat");
        // The command name in parentheses may hold spaces; the fields after it start with the state (field 3), so
        // utime (field 14) and stime (field 15) are the 12th and 13th.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return TimeSpan.FromSeconds((long.Parse(fields[11]) + long.Parse(fields[12])) / TicksPerSecond);
    }
}
