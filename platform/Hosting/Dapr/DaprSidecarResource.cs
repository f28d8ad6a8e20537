using Aspire.Hosting.ApplicationModel;

namespace Aspire.Hosting.Dapr;

/// <summary>The sidecar of <see cref="Parent"/>, named <c>{app}-dapr</c> as the toolkit names it.</summary>
public sealed class DaprSidecarResource(string name, string command, string workingDirectory, IResource app, string appId)
    : ExecutableResource(name, command, workingDirectory), IResourceWithParent
{
    public IResource Parent { get; } = app;

    public string AppId { get; } = appId;

    /// <summary>Where the orchestrator wrote every sidecar's address, once ports are allocated.</summary>
    internal string? NameResolutionFile { get; set; }
}
