namespace Aspire.Hosting.Orchestration;

/// <summary>Finds the server binaries the app model needs, or says exactly how to install them.</summary>
internal static class Prerequisites
{
    public static string RedisServer() => FindOnPath("redis-server")
        ?? throw new MissingPrerequisiteException("redis-server was not found. Install it with: sudo apt-get install -y redis-server");

    public static string PostgresBinDirectory() =>
        (Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql")
                .Where(directory => File.Exists(Path.Combine(directory, "bin", "postgres")))
                .OrderByDescending(directory => int.TryParse(Path.GetFileName(directory), out var version) ? version : 0)
                .Select(directory => Path.Combine(directory, "bin"))
                .FirstOrDefault()
            : null)
        ?? throw new MissingPrerequisiteException("PostgreSQL server binaries were not found. Install them with: sudo apt-get install -y postgresql postgresql-contrib");

    public static string? FindOnPath(string binary) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(directory => Path.Combine(directory, binary))
            .FirstOrDefault(File.Exists);
}

/// <summary>Something the machine must provide is missing; reported as <c>RuntimeUnhealthy</c>, as Aspire reports a missing container runtime.</summary>
public sealed class MissingPrerequisiteException(string message) : DistributedApplicationException(message);
