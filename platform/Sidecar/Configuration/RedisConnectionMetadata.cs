using System.Globalization;
using System.Text.RegularExpressions;
using StackExchange.Redis;

namespace CloudScale.Sidecar.Configuration;

/// <summary>
/// The connection metadata that <c>state.redis</c> and <c>pubsub.redis</c> share (contrib's
/// <c>common/component/redis</c> Settings), turned into a client configuration. Pool, retry and idle settings
/// are accepted and have nothing to tune: StackExchange.Redis multiplexes one pipelined connection and never
/// retries behind the caller's back. Cluster, Sentinel, client certificates and Entra ID are refused at load rather
/// than silently ignored.
/// </summary>
internal static partial class RedisConnectionMetadata
{
    public static ConfigurationOptions Read(ComponentDefinition component)
    {
        var (host, port) = SingleNode(component);
        var commandTimeout = (int)(PositiveDuration(component, "readTimeout") ?? TimeSpan.FromSeconds(3)).TotalMilliseconds;
        var options = new ConfigurationOptions
        {
            EndPoints = { { host, port } },
            User = component.Get("redisUsername"),
            Password = component.Get("redisPassword"),
            Ssl = Boolean(component, "enableTLS", defaultValue: false),
            DefaultDatabase = Integer(component, "redisDB") ?? 0,
            ConnectTimeout = (int)(PositiveDuration(component, "dialTimeout") ?? TimeSpan.FromSeconds(5)).TotalMilliseconds,
            // go-redis's default read timeout, which contrib keeps.
            SyncTimeout = commandTimeout,
            AsyncTimeout = commandTimeout,
            AbortOnConnectFail = true,
            // A command fails at once while the connection is down instead of waiting in a backlog: the caller (or the
            // subscription loop) decides whether to try again, as with go-redis.
            BacklogPolicy = BacklogPolicy.FailFast,
            // A single node: no tie-breaker key to read, no configuration channel, and so no second (pub/sub)
            // connection; the sidecar's Redis traffic is contrib's commands only.
            TieBreaker = "",
            ConfigurationChannel = "",
            CommandMap = CommandMap.Create(new HashSet<string>(StringComparer.Ordinal) { "SUBSCRIBE" }, available: false),
            // RESP2 replies, which the hand-read XREADGROUP and INFO replies expect (RESP3 makes them a map and a verbatim string).
            Protocol = RedisProtocol.Resp2,
            // StackExchange.Redis counts INFO, which contrib reads at init for the replica count, as an admin command.
            AllowAdmin = true,
        };
        if (options.Ssl && Boolean(component, "insecureSkipTLSVerify", defaultValue: false))
        {
#pragma warning disable CA5359 // The component asks for it explicitly, as contrib's insecureSkipTLSVerify does (self-signed development servers).
            options.CertificateValidation += (_, _, _, _) => true;
#pragma warning restore CA5359
        }

        return options;
    }

    /// <summary>A copy of <paramref name="options"/> for one blocking command at a time, which may wait <paramref name="block"/> for a reply.</summary>
    public static ConfigurationOptions ForBlocking(ConfigurationOptions options, TimeSpan block)
    {
        var blocking = options.Clone();
        blocking.AsyncTimeout += (int)block.TotalMilliseconds;
        // Start even while Redis is away: the caller's loop tries again until it answers.
        blocking.AbortOnConnectFail = false;
        return blocking;
    }

    /// <summary>The one node to dial; anything that needs more than one node, or a client certificate, is refused.</summary>
    private static (string Host, int Port) SingleNode(ComponentDefinition component)
    {
        var host = component.Get("redisHost") ?? throw component.Error("redisHost", "is required");
        if (host.Contains(',', StringComparison.Ordinal))
        {
            throw component.Error("redisHost", $"'{host}' names several hosts: only a single node is supported (no cluster or Sentinel)");
        }

        if (component.Get("redisType") is { } type && type != "node")
        {
            throw component.Error("redisType", $"'{type}' is not supported: use node");
        }

        foreach (var unsupported in new[] { "failover", "useEntraID", "useAzureAD" })
        {
            if (Boolean(component, unsupported, defaultValue: false))
            {
                throw component.Error(unsupported, "is not supported");
            }
        }

        if (component.Get("clientCert") is not null || component.Get("clientKey") is not null)
        {
            throw component.Error("clientCert", "client certificates are not supported");
        }

        var endpoint = EndpointPattern().Match(host);
        if (!endpoint.Success)
        {
            throw component.Error("redisHost", $"'{host}' is not host:port");
        }

        // contrib dials redisPort, else 6379, when redisHost has no port, with or without TLS.
        return (endpoint.Groups["host"].Value.Trim('[', ']'),
            endpoint.Groups["port"].Success ? Port(component, "redisHost", endpoint.Groups["port"].Value)
            : component.Get("redisPort") is { } redisPort ? Port(component, "redisPort", redisPort)
            : DefaultPort);

    }

    public static bool Boolean(ComponentDefinition component, string field, bool defaultValue) => component.Get(field) switch
    {
        null => defaultValue,
        var text when GoStrconv.TryParseBool(text, out var value) => value,
        var text => throw component.Error(field, $"'{text}' is not a boolean"),
    };

    public static int? Integer(ComponentDefinition component, string field) => component.Get(field) switch
    {
        null => null,
        var text when int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value) => value,
        var text => throw component.Error(field, $"'{text}' is not an integer"),
    };

    /// <summary>contrib's <c>Duration</c>: a bare integer is milliseconds, anything else a Go duration; null when absent.</summary>
    public static TimeSpan? Duration(ComponentDefinition component, string field) => component.Get(field) switch
    {
        null => null,
        var text when long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var milliseconds) => TimeSpan.FromMilliseconds(milliseconds),
        var text when GoDuration.TryParse(text, out var duration) => duration,
        var text => throw component.Error(field, $"'{text}' is not a duration such as 500ms, 5s or a number of milliseconds"),
    };

    /// <summary>A duration where zero or negative means "the default" (go-redis's reading of 0 and -1 for its timeouts).</summary>
    private static TimeSpan? PositiveDuration(ComponentDefinition component, string field) =>
        Duration(component, field) is { } duration && duration > TimeSpan.Zero ? duration : null;

    private static int Port(ComponentDefinition component, string field, string text) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port is > 0 and < 65536
            ? port
            : throw component.Error(field, $"'{text}' is not a port number");

    private const int DefaultPort = 6379;

    [GeneratedRegex(@"^(?<host>\[[^\]]+\]|[^:\[\]]+)(:(?<port>[0-9]+))?$", RegexOptions.ExplicitCapture, matchTimeoutMilliseconds: 1000)]
    private static partial Regex EndpointPattern();
}
