using Aspire.Hosting.ApplicationModel;

namespace Aspire.Hosting.Dapr;

/// <summary>
/// The sidecar of one replica of <see cref="App"/>, named <c>{app}-dapr</c> as the toolkit names it (<c>{app}-dapr-{n}</c>
/// when the app has several replicas, each with its own sidecar as on Container Apps).
/// </summary>
public sealed class DaprSidecarResource(string name, string command, string workingDirectory, IResource app, string appId, int replicaIndex)
    : ExecutableResource(name, command, workingDirectory)
{
    internal const string HttpEndpointName = "http";
    internal const string GrpcEndpointName = "grpc";

    public IResource App { get; } = app;

    public string AppId { get; } = appId;

    /// <summary>Which replica of the app this sidecar serves (the <c>resource-replica-index</c> of its DCP executable).</summary>
    public int ReplicaIndex { get; } = replicaIndex;

    public EndpointReference HttpEndpoint => new(this, HttpEndpointName);

    public EndpointReference GrpcEndpoint => new(this, GrpcEndpointName);
}

/// <summary>What the manifest holds for an app's sidecar in publish mode: a <c>dapr.v0</c> entry (reference aspire-contract §2.5).</summary>
public sealed class DaprSidecarManifestResource(string name, IResource app, string appId, IReadOnlyList<string> components) : Resource(name)
{
    public IResource App { get; } = app;

    public string AppId { get; } = appId;

    public IReadOnlyList<string> Components { get; } = components;
}

/// <summary>A Dapr component written to the manifest as <c>dapr.component.v0</c> (azd maps state and pub/sub components).</summary>
public sealed class DaprComponentResource(string name, string type) : Resource(name)
{
    /// <summary>The building block: <c>state</c> or <c>pubsub</c>.</summary>
    public string Type { get; } = type;
}
