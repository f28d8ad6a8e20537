namespace CloudScale.Sidecar.Configuration;

/// <summary>A start-up error: bad arguments or a resource file that cannot be used. The message names what and where.</summary>
internal sealed class ConfigurationException(string message) : Exception(message);
