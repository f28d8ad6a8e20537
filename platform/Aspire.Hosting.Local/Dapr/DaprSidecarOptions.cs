using System.Collections.Immutable;

namespace Aspire.Hosting.Dapr;

/// <summary>
/// The options of CommunityToolkit.Aspire.Hosting.Dapr's <c>DaprSidecarOptions</c> that CloudScale uses, with the same
/// names, plus the API tokens, which the toolkit leaves to the user and CloudScale generates by default.
/// </summary>
public sealed record DaprSidecarOptions
{
    /// <summary>The Dapr app id; the resource name when not set.</summary>
    public string? AppId { get; init; }

    /// <summary>The port the sidecar calls the app on; the app's <c>http</c> endpoint when not set.</summary>
    public int? AppPort { get; init; }

    public string? AppProtocol { get; init; }

    /// <summary><c>debug</c>, <c>info</c>, <c>warn</c>, <c>error</c> or <c>fatal</c>.</summary>
    public string? LogLevel { get; init; }

    /// <summary>Folders of component, subscription and resiliency YAML, relative to the AppHost's directory.</summary>
    public IImmutableSet<string> ResourcesPaths { get; init; } = ImmutableHashSet<string>.Empty;

    /// <summary>Require <c>dapr-api-token</c> on calls to the sidecars (one token shared by the whole app model, as the
    /// service-invocation hop between sidecars carries it). On by default.</summary>
    public bool EnableApiToken { get; init; } = true;

    /// <summary>Make the sidecar present <c>dapr-api-token</c> to its app, which checks it. On by default.</summary>
    public bool EnableAppApiToken { get; init; } = true;
}
