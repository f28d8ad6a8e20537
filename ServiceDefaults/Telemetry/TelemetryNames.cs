namespace CloudScale.ServiceDefaults.Telemetry;

/// <summary>The activity sources and meters every service exports.</summary>
public static class TelemetryNames
{
    /// <summary>Prefix of the project's own sources and meters (<c>CloudScale.Redis</c>, <c>CloudScale.Workflow</c>, …).</summary>
    public const string ProjectPrefix = "CloudScale.";

    public static IReadOnlyList<string> ActivitySources { get; } =
    [
        "Microsoft.AspNetCore",
        "System.Net.Http",
        "Npgsql",
        ProjectPrefix + "*",
    ];

    public static IReadOnlyList<string> Meters { get; } =
    [
        "Microsoft.AspNetCore.Hosting",
        "Microsoft.AspNetCore.Server.Kestrel",
        "Microsoft.AspNetCore.Http.Connections",
        "Microsoft.AspNetCore.Routing",
        "Microsoft.AspNetCore.Diagnostics",
        "Microsoft.AspNetCore.RateLimiting",
        "System.Net.Http",
        "System.Net.NameResolution",
        "System.Runtime",
        "Npgsql",
        ProjectPrefix + "*",
    ];
}
