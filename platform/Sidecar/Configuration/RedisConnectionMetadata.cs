using System.Globalization;
using System.Text.RegularExpressions;
using CloudScale.Redis;

namespace CloudScale.Sidecar.Configuration;

/// <summary>
/// The connection metadata that <c>state.redis</c> and <c>pubsub.redis</c> share (contrib's
/// <c>common/component/redis</c> Settings), turned into a client configuration. Pool, retry and idle settings
/// are accepted and have nothing to tune: the client multiplexes one pipelined connection and never retries
/// behind the caller's back. Cluster, Sentinel, client certificates and Entra ID are refused at load rather
/// than silently ignored.
/// </summary>
internal static partial class RedisConnectionMetadata
{
    public static ConfigurationOptions Read(ComponentDefinition component)
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

        var options = new ConfigurationOptions
        {
            Host = endpoint.Groups["host"].Value.Trim('[', ']'),
            // contrib dials redisPort, else 6379, when redisHost has no port, with or without TLS.
            Port = endpoint.Groups["port"].Success ? Port(component, "redisHost", endpoint.Groups["port"].Value)
                : component.Get("redisPort") is { } redisPort ? Port(component, "redisPort", redisPort)
                : ConfigurationOptions.DefaultPort,
            User = component.Get("redisUsername"),
            Password = component.Get("redisPassword"),
            Ssl = Boolean(component, "enableTLS", defaultValue: false),
            DefaultDatabase = Integer(component, "redisDB") ?? 0,
            ConnectTimeout = PositiveDuration(component, "dialTimeout") ?? TimeSpan.FromSeconds(5),
            // go-redis's default read timeout, which contrib keeps.
            CommandTimeout = PositiveDuration(component, "readTimeout") ?? TimeSpan.FromSeconds(3),
            AbortOnConnectFail = true,
        };
        if (options.Ssl && Boolean(component, "insecureSkipTLSVerify", defaultValue: false))
        {
#pragma warning disable CA5359 // The component asks for it explicitly, as contrib's insecureSkipTLSVerify does (self-signed development servers).
            options.CertificateValidation = (_, _, _, _) => true;
#pragma warning restore CA5359
        }

        return options;
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

    [GeneratedRegex(@"^(?<host>\[[^\]]+\]|[^:\[\]]+)(:(?<port>[0-9]+))?$", RegexOptions.ExplicitCapture, matchTimeoutMilliseconds: 1000)]
    private static partial Regex EndpointPattern();
}
