using System.Globalization;
using System.Net.Security;

namespace CloudScale.Redis;

/// <summary>The RESP version to speak; RESP3 is negotiated with <c>HELLO 3</c>.</summary>
public enum RedisProtocol
{
    Resp2 = 2,
    Resp3 = 3,
}

/// <summary>
/// Connection settings, parsed from the connection-string format Aspire injects and StackExchange.Redis users know:
/// <c>host:port,password=…,user=…,ssl=true,sslHost=…,abortConnect=false,defaultDatabase=N,connectTimeout=ms,
/// syncTimeout=ms,asyncTimeout=ms,name=…,protocol=resp3,keepAlive=s</c>.
/// </summary>
public sealed class ConfigurationOptions
{
    public const int DefaultPort = 6379;
    public const int DefaultTlsPort = 6380;

    private int? _port;

    public string Host { get; set; } = "localhost";

    /// <summary>The port given, or 6379 (6380 with TLS) as StackExchange.Redis defaults.</summary>
    public int Port
    {
        get => _port ?? (Ssl ? DefaultTlsPort : DefaultPort);
        set => _port = value;
    }

    public string? User { get; set; }

    public string? Password { get; set; }

    public bool Ssl { get; set; }

    /// <summary>The name the server certificate must carry; the host when not set.</summary>
    public string? SslHost { get; set; }

    /// <summary>Validates the server certificate instead of the system trust store, e.g. to trust a self-signed test certificate.</summary>
    public RemoteCertificateValidationCallback? CertificateValidation { get; set; }

    /// <summary>When true (the default) <see cref="ConnectionMultiplexer.ConnectAsync(string)"/> throws if the first connection fails; when false it returns a multiplexer that keeps trying.</summary>
    public bool AbortOnConnectFail { get; set; } = true;

    public int DefaultDatabase { get; set; }

    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long a command waits for its reply before it fails with <see cref="RedisTimeoutException"/>.</summary>
    public TimeSpan CommandTimeout { get; set; } = TimeSpan.FromSeconds(5);

    public string? ClientName { get; set; }

    public RedisProtocol Protocol { get; set; } = RedisProtocol.Resp2;

    /// <summary>TCP keep-alive idle time; none when zero.</summary>
    public TimeSpan KeepAlive { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>The first delay between reconnect attempts; it doubles up to <see cref="MaxReconnectDelay"/>.</summary>
    public TimeSpan ReconnectDelay { get; set; } = TimeSpan.FromMilliseconds(100);

    public TimeSpan MaxReconnectDelay { get; set; } = TimeSpan.FromSeconds(5);

    public string EndPoint => $"{Host}:{Port}";

    /// <summary>Parses a connection string; unknown or malformed options throw <see cref="ArgumentException"/> naming the option.</summary>
    public static ConfigurationOptions Parse(string configuration)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(configuration);
        var options = new ConfigurationOptions();
        var endpoints = 0;
        var timeoutSet = false;
        foreach (var part in configuration.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = part.IndexOf('=', StringComparison.Ordinal);
            if (equals < 0)
            {
                if (++endpoints > 1)
                {
                    throw new ArgumentException($"Only one endpoint is supported, but the connection string names a second one: '{part}'.", nameof(configuration));
                }

                options.ParseEndPoint(part);
                continue;
            }

            var name = part[..equals].Trim();
            var value = part[(equals + 1)..].Trim();
            timeoutSet |= options.Apply(name, value, timeoutSet);
        }

        if (endpoints == 0)
        {
            throw new ArgumentException("The connection string names no host:port endpoint.", nameof(configuration));
        }

        return options;
    }

    public ConfigurationOptions Clone() => (ConfigurationOptions)MemberwiseClone();

    /// <summary>Applies one option; returns true when it set the command timeout from asyncTimeout, which wins over syncTimeout.</summary>
    private bool Apply(string name, string value, bool asyncTimeoutSet)
    {
        switch (name.ToLowerInvariant())
        {
            case "password": Password = value; break;
            case "user": User = value; break;
            case "ssl": Ssl = ParseBoolean(name, value); break;
            case "sslhost": SslHost = value; break;
            case "abortconnect": AbortOnConnectFail = ParseBoolean(name, value); break;
            case "defaultdatabase": DefaultDatabase = ParseInteger(name, value, 0); break;
            case "connecttimeout": ConnectTimeout = TimeSpan.FromMilliseconds(ParseInteger(name, value, 1)); break;
            case "name": ClientName = value; break;
            case "keepalive": KeepAlive = TimeSpan.FromSeconds(ParseInteger(name, value, 0)); break;
            case "protocol": Protocol = ParseProtocol(name, value); break;
            case "asynctimeout":
                CommandTimeout = TimeSpan.FromMilliseconds(ParseInteger(name, value, 1));
                return true;
            case "synctimeout":
                if (!asyncTimeoutSet)
                {
                    CommandTimeout = TimeSpan.FromMilliseconds(ParseInteger(name, value, 1));
                }

                break;
            default:
                throw new ArgumentException($"Unknown Redis connection string option '{name}'.", nameof(name));
        }

        return false;
    }

    private void ParseEndPoint(string endpoint)
    {
        var colon = endpoint.LastIndexOf(':');
        // An IPv6 address has colons of its own, so it can carry a port only in brackets: [::1]:6380.
        var bareIpv6 = !endpoint.StartsWith('[') && endpoint.IndexOf(':', StringComparison.Ordinal) != colon;
        if (colon < 0 || bareIpv6 || endpoint.EndsWith(']'))
        {
            Host = endpoint.Trim('[', ']');
            return;
        }

        Host = endpoint[..colon].Trim('[', ']');
        _port = int.TryParse(endpoint[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port is > 0 and < 65536
            ? port
            : throw new ArgumentException($"The endpoint '{endpoint}' has no valid port.", nameof(endpoint));
    }

    private static bool ParseBoolean(string name, string value) => bool.TryParse(value, out var parsed)
        ? parsed
        : throw new ArgumentException($"The Redis connection string option '{name}' must be true or false, not '{value}'.", nameof(name));

    private static int ParseInteger(string name, string value, int minimum) =>
        int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed) && parsed >= minimum
            ? parsed
            : throw new ArgumentException($"The Redis connection string option '{name}' must be an integer of at least {minimum}, not '{value}'.", nameof(name));

    private static RedisProtocol ParseProtocol(string name, string value) => value.ToLowerInvariant() switch
    {
        "resp2" or "2" => RedisProtocol.Resp2,
        "resp3" or "3" => RedisProtocol.Resp3,
        _ => throw new ArgumentException($"The Redis connection string option '{name}' must be resp2 or resp3, not '{value}'.", nameof(name)),
    };
}
