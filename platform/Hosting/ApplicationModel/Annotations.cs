namespace Aspire.Hosting.ApplicationModel;

/// <summary>A network endpoint: <see cref="Port"/> is the stable (proxied) port clients use, each replica gets its own target port.</summary>
public sealed class EndpointAnnotation(string name, string scheme = "http", int? port = null, string? environmentVariable = null) : IResourceAnnotation
{
    public string Name { get; } = name;

    public string UriScheme { get; } = scheme;

    /// <summary>The port asked for, if any; otherwise one is allocated.</summary>
    public int? RequestedPort { get; } = port;

    /// <summary>When set, the replica's target port is passed in this variable instead of <c>ASPNETCORE_URLS</c>.</summary>
    public string? EnvironmentVariable { get; } = environmentVariable;

    public bool IsExternal { get; set; }

    public int Port { get; internal set; }

    public Uri Url => new($"{UriScheme}://localhost:{Port}");
}

public sealed class EnvironmentCallbackContext(IDictionary<string, string> environmentVariables, int replicaIndex, string environmentName)
{
    public IDictionary<string, string> EnvironmentVariables { get; } = environmentVariables;

    public int ReplicaIndex { get; } = replicaIndex;

    public string EnvironmentName { get; } = environmentName;
}

/// <summary>Adds environment variables at start time, when ports and secrets are known.</summary>
public sealed class EnvironmentCallbackAnnotation(Action<EnvironmentCallbackContext> callback) : IResourceAnnotation
{
    public Action<EnvironmentCallbackContext> Callback { get; } = callback;
}

public sealed class CommandLineArgsAnnotation(IReadOnlyList<string> args) : IResourceAnnotation
{
    public IReadOnlyList<string> Args { get; } = args;
}

public sealed class WaitAnnotation(IResource dependency) : IResourceAnnotation
{
    public IResource Dependency { get; } = dependency;
}

public sealed class HttpHealthCheckAnnotation(string path, int statusCode, string endpointName) : IResourceAnnotation
{
    public string Path { get; } = path;

    public int StatusCode { get; } = statusCode;

    public string EndpointName { get; } = endpointName;
}

public sealed class ReplicaAnnotation(int replicas) : IResourceAnnotation
{
    public int Replicas { get; } = replicas;
}

/// <summary>A resource this one references (connection string or service discovery), for ordering and display.</summary>
public sealed class ResourceRelationshipAnnotation(IResource target) : IResourceAnnotation
{
    public IResource Target { get; } = target;
}

public sealed class CommandLineArgsCallbackContext(IList<string> args, Func<string, int> targetPortOf)
{
    public IList<string> Args { get; } = args;

    /// <summary>The port this replica itself listens on for an endpoint (behind the endpoint's stable proxied port).</summary>
    public int TargetPortOf(string endpointName) => targetPortOf(endpointName);
}

/// <summary>Adds arguments at start time, when ports are known.</summary>
public sealed class CommandLineArgsCallbackAnnotation(Action<CommandLineArgsCallbackContext> callback) : IResourceAnnotation
{
    public Action<CommandLineArgsCallbackContext> Callback { get; } = callback;
}

/// <summary>One endpoint of a resource, resolved to its URL when the resource's environment is built (Aspire's <c>EndpointReference</c>).</summary>
public sealed class EndpointReference(IResourceWithEndpoints resource, string endpointName)
{
    public IResourceWithEndpoints Resource { get; } = resource;

    public string EndpointName { get; } = endpointName;

    /// <summary>The endpoint's URL, without a trailing slash, as service discovery's variables give it.</summary>
    public string Url => (Resource.Annotations.OfType<EndpointAnnotation>().SingleOrDefault(endpoint => endpoint.Name == EndpointName)
            ?? throw new DistributedApplicationException($"Resource '{Resource.Name}' has no endpoint named '{EndpointName}'."))
        .Url.ToString().TrimEnd('/');
}
