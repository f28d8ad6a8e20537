using System.Globalization;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Dapr;
using Aspire.Hosting.Local;

namespace Aspire.Hosting;

/// <summary><c>WithDaprSidecar</c>, shaped like CommunityToolkit.Aspire.Hosting.Dapr (reference aspire-contract §2).</summary>
public static class DaprSidecarExtensions
{
    private const string ApiTokenParameter = "dapr-api-token";

    /// <summary>Where a sidecar finds the sidecars of an app id: <c>{prefix}{appId}__{n}</c> = each replica's sidecar URL.</summary>
    public const string NameResolutionPrefix = "CLOUDSCALE_DAPR_APPS__"; // read by platform/Sidecar/Invocation/NameResolver.cs

    /// <summary>
    /// Runs a Dapr sidecar beside each replica of the app: <c>daprd</c> when it is on PATH, CloudScale's own sidecar
    /// otherwise. The app gets <c>DAPR_HTTP_PORT</c>, <c>DAPR_HTTP_ENDPOINT</c>, <c>DAPR_GRPC_PORT</c>,
    /// <c>DAPR_GRPC_ENDPOINT</c> and the tokens; the sidecar waits for what the app waits for. In publish mode it writes
    /// the app's <c>dapr.v0</c> entry and a <c>dapr.component.v0</c> entry per state and pub/sub component.
    /// </summary>
    /// <param name="configureSidecar">Gives the sidecar what its components need, e.g. <c>sidecar.WithReference(cache)</c>.</param>
    public static IResourceBuilder<ProjectResource> WithDaprSidecar(
        this IResourceBuilder<ProjectResource> builder, DaprSidecarOptions? options = null, Action<IResourceBuilder<DaprSidecarResource>>? configureSidecar = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        options ??= new DaprSidecarOptions();
        var app = builder.Resource;
        var appId = options.AppId ?? app.Name;
        var model = builder.ApplicationBuilder;
        var resourcesPaths = options.ResourcesPaths.Select(path => Path.GetFullPath(path, model.AppHostDirectory)).Order(StringComparer.Ordinal).ToList();
        if (model.ExecutionContext.IsPublishMode)
        {
            AddManifestEntries(model, app, appId, resourcesPaths);
            return builder;
        }

        var runtime = DaprSidecarRuntime.Find();
        var apiToken = options.EnableApiToken ? Secret(model, ApiTokenParameter) : null;
        var appApiToken = options.EnableAppApiToken ? Secret(model, $"{app.Name}-app-api-token") : null;
        var replicas = app.Annotations.OfType<ReplicaAnnotation>().LastOrDefault()?.Replicas ?? 1;
        var sidecars = Enumerable.Range(0, replicas)
            .Select(index => AddSidecar(builder, options, runtime, appId, index, replicas, resourcesPaths, apiToken, appApiToken))
            .ToList();

        builder.WithEnvironment(context =>
        {
            // TryAdd, as the toolkit does: the model's own values win.
            context.EnvironmentVariables.TryAdd("DAPR_HTTP_PORT", PerReplica(sidecars, sidecar => sidecar.Resource.HttpEndpoint.Port.ToString(CultureInfo.InvariantCulture)));
            context.EnvironmentVariables.TryAdd("DAPR_HTTP_ENDPOINT", PerReplica(sidecars, sidecar => sidecar.Resource.HttpEndpoint.Url));
            context.EnvironmentVariables.TryAdd("DAPR_GRPC_PORT", PerReplica(sidecars, sidecar => sidecar.Resource.GrpcEndpoint.Port.ToString(CultureInfo.InvariantCulture)));
            context.EnvironmentVariables.TryAdd("DAPR_GRPC_ENDPOINT", PerReplica(sidecars, sidecar => sidecar.Resource.GrpcEndpoint.Url));
            AddToken(context, "DAPR_API_TOKEN", apiToken);
            AddToken(context, "APP_API_TOKEN", appApiToken);
        });
        foreach (var sidecar in sidecars)
        {
            configureSidecar?.Invoke(sidecar);
        }

        return builder;
    }

    private static IResourceBuilder<DaprSidecarResource> AddSidecar(
        IResourceBuilder<ProjectResource> builder, DaprSidecarOptions options, DaprSidecarRuntime runtime, string appId, int index, int replicas,
        IReadOnlyList<string> resourcesPaths, ParameterResource? apiToken, ParameterResource? appApiToken)
    {
        var model = builder.ApplicationBuilder;
        var app = builder.Resource;
        var name = replicas == 1 ? $"{app.Name}-dapr" : $"{app.Name}-dapr-{index + 1}";
        var sidecar = model.AddResource(new DaprSidecarResource(name, runtime.Command, model.AppHostDirectory, app, appId, index))
            .WithEndpoint(port: LoopbackPorts.Free(), isProxied: false, name: DaprSidecarResource.HttpEndpointName, scheme: "http")
            .WithEndpoint(port: LoopbackPorts.Free(), isProxied: false, name: DaprSidecarResource.GrpcEndpointName, scheme: "http")
            .WithHttpHealthCheck("/v1.0/healthz/outbound", statusCode: 204, endpointName: DaprSidecarResource.HttpEndpointName)
            .WithParentRelationship(app)
            .WithIconName("Link")
            .WithOtlpExporter()
            .WithArgs(context => AddSidecarArguments(context, options, builder, appId, resourcesPaths, runtime));
        sidecar.WithEnvironment(context =>
        {
            AddToken(context, "DAPR_API_TOKEN", apiToken);
            AddToken(context, "APP_API_TOKEN", appApiToken);
            foreach (var other in model.Resources.OfType<DaprSidecarResource>())
            {
                context.EnvironmentVariables[$"{NameResolutionPrefix}{other.AppId}__{other.ReplicaIndex}"] = other.HttpEndpoint.Url;
            }
        });

        // The sidecar starts with its app's dependencies (components live there), and stops with the app model.
        foreach (var wait in app.Annotations.OfType<WaitAnnotation>().ToList())
        {
            sidecar.WithAnnotation(new WaitAnnotation(wait.Resource, wait.WaitType));
        }

        return sidecar;
    }

    /// <summary>
    /// One value for every replica of the app: each replica of a project is a DCP executable of the same spec, so its own
    /// sidecar is chosen by a DCP template on the replica's index (DCP expands templates in env values, as Aspire's own
    /// <c>OTEL_RESOURCE_ATTRIBUTES</c> does).
    /// </summary>
    private static object PerReplica(List<IResourceBuilder<DaprSidecarResource>> sidecars, Func<IResourceBuilder<DaprSidecarResource>, object> value)
    {
        if (sidecars.Count == 1)
        {
            return value(sidecars[0]);
        }

        var branches = sidecars.Select((sidecar, index) =>
            (index == 0 ? "{{- if" : "{{- else if") + " eq (index .Annotations \"resource-replica-index\") \"" +
            index.ToString(CultureInfo.InvariantCulture) + "\" -}}" + value(sidecar));
        return string.Concat(branches) + "{{- end -}}";
    }

    private static void AddSidecarArguments(
        CommandLineArgsCallbackContext context, DaprSidecarOptions options, IResourceBuilder<ProjectResource> app, string appId,
        IReadOnlyList<string> resourcesPaths, DaprSidecarRuntime runtime)
    {
        var sidecar = (DaprSidecarResource)context.Resource;
        foreach (var argument in runtime.LeadingArgs)
        {
            context.Args.Add(argument);
        }

        AddOption(context.Args, "--app-id", appId);
        // The app's endpoint as DCP proxies it (load-balanced over replicas): an app's target port is known only to its own
        // executable.
        context.Args.Add("--app-port");
        context.Args.Add(options.AppPort is { } port ? port.ToString(CultureInfo.InvariantCulture) : app.GetEndpoint("http").Property(EndpointProperty.Port));
        AddOption(context.Args, "--app-protocol", options.AppProtocol ?? "http");
        AddOption(context.Args, "--app-channel-address", "127.0.0.1");
        AddOption(context.Args, "--dapr-http-port", sidecar.HttpEndpoint.Port.ToString(CultureInfo.InvariantCulture));
        AddOption(context.Args, "--dapr-grpc-port", sidecar.GrpcEndpoint.Port.ToString(CultureInfo.InvariantCulture));
        AddOption(context.Args, "--log-level", options.LogLevel);
        foreach (var path in resourcesPaths)
        {
            AddOption(context.Args, "--resources-path", path);
        }

        if (runtime.IsDaprd)
        {
            // daprd's own defaults (50002, 9090, …) would collide between the sidecars of one machine.
            AddOption(context.Args, "--dapr-internal-grpc-port", LoopbackPorts.Free().ToString(CultureInfo.InvariantCulture));
            AddOption(context.Args, "--metrics-port", LoopbackPorts.Free().ToString(CultureInfo.InvariantCulture));
        }
    }

    private static void AddManifestEntries(IDistributedApplicationBuilder model, ProjectResource app, string appId, IReadOnlyList<string> resourcesPaths)
    {
        var components = DaprComponentFiles.Read(resourcesPaths)
            .Where(component => component.Scopes.Count == 0 || component.Scopes.Contains(appId))
            .Where(component => component.BuildingBlock is "state" or "pubsub")
            .ToList();
        foreach (var component in components.Where(component => !model.Resources.Any(resource => resource.Name == component.Name)))
        {
            model.AddResource(new DaprComponentResource(component.Name, component.BuildingBlock))
                .WithManifestPublishingCallback(context =>
                {
                    context.Writer.WriteString("type", "dapr.component.v0");
                    context.Writer.WriteStartObject("daprComponent");
                    context.Writer.WriteString("type", component.BuildingBlock);
                    context.Writer.WriteEndObject();
                });
        }

        var sidecar = new DaprSidecarManifestResource($"{app.Name}-dapr", app, appId, [.. components.Select(component => component.Name)]);
        model.AddResource(sidecar).WithManifestPublishingCallback(context =>
        {
            context.Writer.WriteString("type", "dapr.v0");
            context.Writer.WriteStartObject("dapr");
            context.Writer.WriteString("application", sidecar.App.Name);
            context.Writer.WriteString("appId", sidecar.AppId);
            context.Writer.WriteStartArray("components");
            foreach (var component in sidecar.Components)
            {
                context.Writer.WriteStringValue(component);
            }

            context.Writer.WriteEndArray();
            context.Writer.WriteEndObject();
        });
    }

    private static ParameterResource Secret(IDistributedApplicationBuilder model, string name) =>
        model.Resources.OfType<ParameterResource>().FirstOrDefault(parameter => parameter.Name == name)
        ?? model.AddParameter(name, new GenerateParameterDefault { MinLength = 32, Special = false }, secret: true, persist: true).Resource;

    private static void AddToken(EnvironmentCallbackContext context, string variable, ParameterResource? token)
    {
        if (token is not null)
        {
            context.EnvironmentVariables.TryAdd(variable, token);
        }
    }

    private static void AddOption(IList<object> args, string name, string? value)
    {
        if (value is not null)
        {
            args.Add(name);
            args.Add(value);
        }
    }
}
