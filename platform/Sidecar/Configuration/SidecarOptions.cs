namespace CloudScale.Sidecar.Configuration;

/// <summary>The daprd command line this sidecar understands, plus the environment daprd reads.</summary>
internal sealed record SidecarOptions
{
    /// <summary>daprd flags accepted so that a daprd command line works unchanged; this sidecar has no internal gRPC API, actors or metrics port.</summary>
    private static readonly HashSet<string> IgnoredFlags = new(StringComparer.Ordinal)
    {
        "dapr-internal-grpc-port", "metrics-port", "enable-metrics", "config",
        "placement-host-address", "scheduler-host-address", "enable-api-logging", "app-max-concurrency",
        "log-as-json", "mode", "profile-port", "enable-profiling", "dapr-http-max-request-size",
    };

    public required string AppId { get; init; }

    public int? AppPort { get; init; }

    public string AppProtocol { get; init; } = "http";

    public string AppChannelAddress { get; init; } = "127.0.0.1";

    public int HttpPort { get; init; } = 3500;

    public int GrpcPort { get; init; } = 50001;

    public IReadOnlyList<string> ListenAddresses { get; init; } = ["127.0.0.1"];

    public IReadOnlyList<string> ResourcesPaths { get; init; } = [];

    public LogLevel LogLevel { get; init; } = LogLevel.Information;

    public string? ApiToken { get; init; }

    public string? AppApiToken { get; init; }

    public string? NameResolutionFile { get; init; }

    /// <summary>
    /// How long a workflow worker holds a work item before it is handed to another (<c>CLOUDSCALE_WORKFLOW_LEASE</c>, a Go
    /// duration; 30s by default). Not a daprd setting: daprd's actors re-place work on their own schedule.
    /// </summary>
    public TimeSpan WorkflowLease { get; init; } = TimeSpan.FromSeconds(30);

    public Uri AppBaseAddress => new($"{AppProtocol}://{AppChannelAddress}:{AppPort}");

    public static SidecarOptions Parse(IReadOnlyList<string> args, Func<string, string?> environment)
    {
        var values = ReadFlags(args);
        string? Single(string name) => values.TryGetValue(name, out var list) ? list[^1] : null;

        var appId = Single("app-id");
        if (string.IsNullOrWhiteSpace(appId))
        {
            throw new ConfigurationException("--app-id is required");
        }

        var protocol = Single("app-protocol") ?? "http";
        if (protocol is not ("http" or "https"))
        {
            throw new ConfigurationException($"--app-protocol '{protocol}' is not supported: use http or https");
        }

        return new SidecarOptions
        {
            AppId = appId,
            AppPort = Single("app-port") is { } appPort ? ParsePort("app-port", appPort) : null,
            AppProtocol = protocol,
            AppChannelAddress = Single("app-channel-address") ?? "127.0.0.1",
            HttpPort = Single("dapr-http-port") is { } httpPort ? ParsePort("dapr-http-port", httpPort) : 3500,
            GrpcPort = Single("dapr-grpc-port") is { } grpcPort ? ParsePort("dapr-grpc-port", grpcPort) : 50001,
            ListenAddresses = Single("dapr-listen-addresses") is { } listen
                ? listen.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                : ["127.0.0.1"],
            ResourcesPaths = [.. values.GetValueOrDefault("resources-path") ?? [], .. values.GetValueOrDefault("components-path") ?? []],
            LogLevel = ParseLogLevel(Single("log-level") ?? "info"),
            ApiToken = NullIfEmpty(environment("DAPR_API_TOKEN")),
            AppApiToken = NullIfEmpty(environment("APP_API_TOKEN")),
            NameResolutionFile = NullIfEmpty(environment("CLOUDSCALE_NAME_RESOLUTION_FILE")),
            WorkflowLease = NullIfEmpty(environment("CLOUDSCALE_WORKFLOW_LEASE")) is { } lease
                ? GoDuration.TryParse(lease, out var duration) && duration > TimeSpan.Zero ? duration : throw new ConfigurationException($"CLOUDSCALE_WORKFLOW_LEASE '{lease}' is not a positive duration such as 30s")
                : TimeSpan.FromSeconds(30),
        };
    }

    private static Dictionary<string, List<string>> ReadFlags(IReadOnlyList<string> args)
    {
        var values = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (!arg.StartsWith('-'))
            {
                throw new ConfigurationException($"unexpected argument '{arg}'");
            }

            var name = arg.TrimStart('-');
            string value;
            var equals = name.IndexOf('=', StringComparison.Ordinal);
            if (equals >= 0)
            {
                value = name[(equals + 1)..];
                name = name[..equals];
            }
            else if (i + 1 < args.Count && !args[i + 1].StartsWith("--", StringComparison.Ordinal))
            {
                value = args[++i];
            }
            else
            {
                // A bare boolean flag, as Go's flag package allows.
                value = "true";
            }

            if (!IsKnown(name))
            {
                throw new ConfigurationException($"unknown flag --{name}");
            }

            if (!values.TryGetValue(name, out var list))
            {
                values[name] = list = [];
            }

            list.Add(value);
        }

        return values;
    }

    private static bool IsKnown(string name) => name is "app-id" or "app-port" or "app-protocol" or "app-channel-address"
        or "dapr-http-port" or "dapr-grpc-port" or "dapr-listen-addresses" or "resources-path" or "components-path" or "log-level"
        || IgnoredFlags.Contains(name);

    private static int ParsePort(string flag, string value) =>
        int.TryParse(value, out var port) && port is > 0 and <= 65535
            ? port
            : throw new ConfigurationException($"--{flag} '{value}' is not a port number (1-65535)");

    private static LogLevel ParseLogLevel(string value) => value switch
    {
        "debug" => LogLevel.Debug,
        "info" => LogLevel.Information,
        "warn" => LogLevel.Warning,
        "error" => LogLevel.Error,
        "fatal" => LogLevel.Critical,
        _ => throw new ConfigurationException($"--log-level '{value}' is not one of debug, info, warn, error, fatal"),
    };

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
