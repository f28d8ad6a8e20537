using Microsoft.Extensions.Configuration;

namespace Dapr;

/// <summary>
/// Where the sidecar is and which tokens are in force, read as the Dapr SDK reads them: from configuration first
/// (so <c>DAPR_HTTP_PORT</c> in appsettings or an in-memory source works), then from the environment variable of the
/// same name.
/// </summary>
internal static class DaprDefaults
{
    public const string DaprHttpEndpointName = "DAPR_HTTP_ENDPOINT";
    public const string DaprHttpPortName = "DAPR_HTTP_PORT";
    public const string DaprApiTokenName = "DAPR_API_TOKEN";
    public const string AppApiTokenName = "APP_API_TOKEN";
    public const int DefaultHttpPort = 3500;

    /// <summary><c>DAPR_HTTP_ENDPOINT</c> when set (its scheme, host and port), else <c>http://localhost:{DAPR_HTTP_PORT or 3500}/</c>.</summary>
    public static string GetHttpEndpoint(IConfiguration? configuration)
    {
        if (Read(configuration, DaprHttpEndpointName) is { } endpoint)
        {
            var uri = new Uri(endpoint, UriKind.Absolute);
            return new UriBuilder(uri.Scheme, uri.Host, uri.Port).Uri.ToString();
        }

        var port = DefaultHttpPort;
        if (Read(configuration, DaprHttpPortName) is { } text && !int.TryParse(text, out port))
        {
            throw new InvalidOperationException($"{DaprHttpPortName} must be a port number, not '{text}'.");
        }

        return new UriBuilder(Uri.UriSchemeHttp, "localhost", port).Uri.ToString();
    }

    public static string? GetDaprApiToken(IConfiguration? configuration) => Read(configuration, DaprApiTokenName);

    public static string? GetAppApiToken(IConfiguration? configuration) => Read(configuration, AppApiTokenName);

    private static string? Read(IConfiguration? configuration, string name)
    {
        var value = configuration?[name] ?? Environment.GetEnvironmentVariable(name);
        return string.IsNullOrWhiteSpace(value) ? null : value;
    }
}
