using Aspire.Hosting.Local;

namespace Aspire.Hosting.ApplicationModel;

/// <summary>
/// Redis as a local <c>redis-server</c> process: the run-mode twin of Aspire's <see cref="RedisResource"/>, with the same
/// name, password parameter and connection string (<c>{host}:{port},password={password}</c>), so a service cannot tell them apart.
/// </summary>
public sealed class LocalRedisResource(string name, ParameterResource password, string workingDirectory)
    : ExecutableResource(name, "/bin/sh", workingDirectory), IResourceWithConnectionString
{
    internal const string PrimaryEndpointName = "tcp";

    public ParameterResource PasswordParameter { get; } = password;

    public EndpointReference PrimaryEndpoint => new(this, PrimaryEndpointName);

    public ReferenceExpression ConnectionStringExpression =>
        ReferenceExpression.Create($"{PrimaryEndpoint.Property(EndpointProperty.HostAndPort)},password={PasswordParameter}");

    /// <summary>Aspire 13's connection properties of Redis (<c>{NAME}_HOST</c>, … for a reference).</summary>
    IEnumerable<KeyValuePair<string, ReferenceExpression>> IResourceWithConnectionString.GetConnectionProperties() =>
    [
        new("Host", ReferenceExpression.Create($"{PrimaryEndpoint.Property(EndpointProperty.Host)}")),
        new("Port", ReferenceExpression.Create($"{PrimaryEndpoint.Property(EndpointProperty.Port)}")),
        new("Password", ReferenceExpression.Create($"{PasswordParameter}")),
        new("Uri", ReferenceExpression.Create($"redis://:{PasswordParameter:uri}@{PrimaryEndpoint.Property(EndpointProperty.HostAndPort)}")),
    ];
}
