namespace CloudScale.Testing;

/// <summary>Finds the server binaries and says how to install them when they are missing.</summary>
public static class Prerequisites
{
    public static string Find(string binary, string debianPackage)
    {
        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
                     .Concat(["/usr/bin", "/usr/sbin", "/usr/local/bin"]))
        {
            var candidate = Path.Combine(directory, binary);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException($"'{binary}' was not found. Install it with: sudo apt-get install -y {debianPackage}");
    }

    /// <summary>The newest Debian PostgreSQL server binaries (they live outside PATH, in /usr/lib/postgresql/N/bin).</summary>
    public static string PostgresBinDirectory()
    {
        var newest = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql")
                .Select(directory => (Directory: Path.Combine(directory, "bin"), Version: int.TryParse(Path.GetFileName(directory), out var version) ? version : 0))
                .Where(candidate => File.Exists(Path.Combine(candidate.Directory, "postgres")))
                .OrderByDescending(candidate => candidate.Version)
                .Select(candidate => candidate.Directory)
                .FirstOrDefault()
            : null;
        return newest ?? throw new InvalidOperationException(
            "PostgreSQL server binaries were not found under /usr/lib/postgresql. Install them with: sudo apt-get install -y postgresql postgresql-contrib");
    }
}
