using Aspire.Hosting.ApplicationModel;

namespace Aspire.Hosting;

/// <summary>The app-model verbs, with Aspire's names and its injected variable names and formats.</summary>
public static class ResourceBuilderExtensions
{
    /// <summary><c>ConnectionStrings__{connectionName ?? source.Name}</c> = the source's connection string.</summary>
    public static IResourceBuilder<T> WithReference<T>(this IResourceBuilder<T> builder, IResourceBuilder<IResourceWithConnectionString> source, string? connectionName = null)
        where T : IResourceWithEnvironment
    {
        var name = connectionName ?? source.Resource.Name;
        builder.Resource.Annotations.Add(new ResourceRelationshipAnnotation(source.Resource));
        return builder.WithEnvironment(context => context.EnvironmentVariables[$"ConnectionStrings__{name}"] = source.Resource.ConnectionString);
    }

    /// <summary><c>services__{name}__{endpointName}__0</c> = each endpoint's URL (service discovery's configuration format).</summary>
    public static IResourceBuilder<T> WithReference<T>(this IResourceBuilder<T> builder, IResourceBuilder<IResourceWithServiceDiscovery> source)
        where T : IResourceWithEnvironment
    {
        builder.Resource.Annotations.Add(new ResourceRelationshipAnnotation(source.Resource));
        return builder.WithEnvironment(context =>
        {
            foreach (var endpoint in source.Resource.Annotations.OfType<EndpointAnnotation>())
            {
                context.EnvironmentVariables[$"services__{source.Resource.Name}__{endpoint.Name}__0"] = endpoint.Url.ToString().TrimEnd('/');
            }
        });
    }

    /// <summary>Starts this resource only after <paramref name="dependency"/> is running and healthy.</summary>
    public static IResourceBuilder<T> WaitFor<T>(this IResourceBuilder<T> builder, IResourceBuilder<IResource> dependency) where T : IResourceWithWaitSupport
    {
        if (ReferenceEquals(builder.Resource, dependency.Resource))
        {
            throw new DistributedApplicationException($"Resource '{builder.Resource.Name}' cannot wait for itself.");
        }

        builder.Resource.Annotations.Add(new WaitAnnotation(dependency.Resource));
        return builder;
    }

    public static IResourceBuilder<T> WithEnvironment<T>(this IResourceBuilder<T> builder, string name, string? value) where T : IResourceWithEnvironment =>
        builder.WithEnvironment(context => context.EnvironmentVariables[name] = value ?? "");

    public static IResourceBuilder<T> WithEnvironment<T>(this IResourceBuilder<T> builder, string name, Func<string> value) where T : IResourceWithEnvironment =>
        builder.WithEnvironment(context => context.EnvironmentVariables[name] = value());

    public static IResourceBuilder<T> WithEnvironment<T>(this IResourceBuilder<T> builder, string name, IResourceBuilder<ParameterResource> parameter) where T : IResourceWithEnvironment =>
        builder.WithEnvironment(context => context.EnvironmentVariables[name] = parameter.Resource.Value);

    /// <summary><paramref name="name"/> = the URL of <paramref name="endpoint"/>, known once ports are allocated.</summary>
    public static IResourceBuilder<T> WithEnvironment<T>(this IResourceBuilder<T> builder, string name, EndpointReference endpoint) where T : IResourceWithEnvironment =>
        builder.WithEnvironment(context => context.EnvironmentVariables[name] = endpoint.Url);

    public static EndpointReference GetEndpoint<T>(this IResourceBuilder<T> builder, string name) where T : IResourceWithEndpoints =>
        new(builder.Resource, name);

    public static IResourceBuilder<T> WithEnvironment<T>(this IResourceBuilder<T> builder, Action<EnvironmentCallbackContext> callback) where T : IResourceWithEnvironment
    {
        builder.Resource.Annotations.Add(new EnvironmentCallbackAnnotation(callback));
        return builder;
    }

    public static IResourceBuilder<T> WithArgs<T>(this IResourceBuilder<T> builder, params string[] args) where T : IResourceWithArgs
    {
        builder.Resource.Annotations.Add(new CommandLineArgsAnnotation(args));
        return builder;
    }

    /// <summary>
    /// An HTTP endpoint. <paramref name="port"/> is the stable port clients use (allocated when null); the process gets
    /// its own target port in <c>ASPNETCORE_URLS</c>, or in <paramref name="env"/> when given (for non-.NET executables).
    /// </summary>
    public static IResourceBuilder<T> WithHttpEndpoint<T>(this IResourceBuilder<T> builder, int? port = null, string? name = null, string? env = null)
        where T : IResourceWithEndpoints
    {
        var endpointName = name ?? "http";
        if (builder.Resource.Annotations.OfType<EndpointAnnotation>().Any(endpoint => endpoint.Name == endpointName))
        {
            throw new DistributedApplicationException($"Resource '{builder.Resource.Name}' already has an endpoint named '{endpointName}'.");
        }

        builder.Resource.Annotations.Add(new EndpointAnnotation(endpointName, "http", port, env));
        return builder;
    }

    /// <summary>Marks every HTTP endpoint as reachable from outside (in the cloud: ingress; locally: shown as such).</summary>
    public static IResourceBuilder<T> WithExternalHttpEndpoints<T>(this IResourceBuilder<T> builder) where T : IResourceWithEndpoints
    {
        foreach (var endpoint in builder.Resource.Annotations.OfType<EndpointAnnotation>().Where(endpoint => endpoint.UriScheme is "http" or "https"))
        {
            endpoint.IsExternal = true;
        }

        return builder;
    }

    /// <summary>Healthy when GET <paramref name="path"/> on every replica answers <paramref name="statusCode"/>.</summary>
    public static IResourceBuilder<T> WithHttpHealthCheck<T>(this IResourceBuilder<T> builder, string? path = null, int? statusCode = null, string? endpointName = null)
        where T : IResourceWithEndpoints
    {
        var endpoint = endpointName ?? "http";
        if (!builder.Resource.Annotations.OfType<EndpointAnnotation>().Any(annotation => annotation.Name == endpoint))
        {
            throw new DistributedApplicationException($"Resource '{builder.Resource.Name}' has no endpoint named '{endpoint}' to health-check.");
        }

        builder.Resource.Annotations.Add(new HttpHealthCheckAnnotation(path ?? "/", statusCode ?? 200, endpoint));
        return builder;
    }

    /// <summary>Runs <paramref name="replicas"/> processes behind the resource's stable endpoints, load-balanced across the healthy ones.</summary>
    public static IResourceBuilder<ProjectResource> WithReplicas(this IResourceBuilder<ProjectResource> builder, int replicas)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(replicas, 1);
        foreach (var existing in builder.Resource.Annotations.OfType<ReplicaAnnotation>().ToList())
        {
            builder.Resource.Annotations.Remove(existing);
        }

        builder.Resource.Annotations.Add(new ReplicaAnnotation(replicas));
        return builder;
    }
}
