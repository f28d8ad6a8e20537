using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Dapr;

namespace Aspire.Hosting;

/// <summary><c>WithDaprSidecar</c>, shaped like CommunityToolkit.Aspire.Hosting.Dapr (reference aspire-contract §2).</summary>
public static class DaprSidecarExtensions
{
    private const string ApiTokenParameter = "dapr-api-token";

    /// <summary>
    /// Runs a Dapr sidecar beside the app: <c>daprd</c> when it is on PATH, CloudScale's own sidecar otherwise. The app
    /// gets <c>DAPR_HTTP_PORT</c>, <c>DAPR_HTTP_ENDPOINT</c> and the tokens; the sidecar waits for what the app waits for.
    /// </summary>
    /// <param name="configureSidecar">Gives the sidecar what its components need, e.g. <c>sidecar.WithReference(cache)</c>.</param>
    public static IResourceBuilder<T> WithDaprSidecar<T>(
        this IResourceBuilder<T> builder, DaprSidecarOptions? options = null, Action<IResourceBuilder<DaprSidecarResource>>? configureSidecar = null)
        where T : ProcessResource
    {
        ArgumentNullException.ThrowIfNull(builder);
        options ??= new DaprSidecarOptions();
        var app = builder.Resource;
        var appId = options.AppId ?? app.Name;
        var model = builder.ApplicationBuilder;
        var runtime = DaprSidecarRuntime.Find();
        var sidecar = model.AddResource(new DaprSidecarResource($"{app.Name}-dapr", runtime.Command, model.AppHostDirectory, app, appId))
            .WithHttpEndpoint(options.DaprHttpPort)
            .WithHttpHealthCheck("/v1.0/healthz/outbound", statusCode: 204)
            .WithArgs([.. runtime.LeadingArgs, "--app-id", appId]);
        var resourcesPaths = options.ResourcesPaths.Select(path => Path.GetFullPath(path, model.AppHostDirectory)).ToList();
        sidecar.Resource.Annotations.Add(new CommandLineArgsCallbackAnnotation(context => AddSidecarArguments(context, options, app, resourcesPaths, runtime)));

        var sidecarEndpoint = sidecar.Resource.Annotations.OfType<EndpointAnnotation>().Single();
        var apiToken = options.EnableApiToken ? SharedApiToken(model) : null;
        var appApiToken = options.EnableAppApiToken ? ResourceExtensions.GeneratedPassword(model, $"{app.Name}-app-api-token") : null;
        sidecar.WithEnvironment(context =>
        {
            AddToken(context, "DAPR_API_TOKEN", apiToken);
            AddToken(context, "APP_API_TOKEN", appApiToken);
            if (sidecar.Resource.NameResolutionFile is { } file)
            {
                context.EnvironmentVariables["CLOUDSCALE_NAME_RESOLUTION_FILE"] = file;
            }
        });
        builder.WithEnvironment(context =>
        {
            // TryAdd, as the toolkit does: the model's own values win.
            context.EnvironmentVariables.TryAdd("DAPR_HTTP_PORT", sidecarEndpoint.Port.ToString());
            context.EnvironmentVariables.TryAdd("DAPR_HTTP_ENDPOINT", $"http://localhost:{sidecarEndpoint.Port}");
            AddToken(context, "DAPR_API_TOKEN", apiToken);
            AddToken(context, "APP_API_TOKEN", appApiToken);
        });
        configureSidecar?.Invoke(sidecar);
        return builder;
    }

    /// <summary>Writes the address of every sidecar of the model where CloudScale's sidecars look them up by app id.</summary>
    internal static void WriteNameResolution(IEnumerable<IResource> resources, string directory)
    {
        var sidecars = resources.OfType<DaprSidecarResource>().ToList();
        if (sidecars.Count == 0)
        {
            return;
        }

        var apps = sidecars.ToDictionary(
            sidecar => sidecar.AppId,
            sidecar => new { httpEndpoint = $"http://127.0.0.1:{sidecar.Annotations.OfType<EndpointAnnotation>().Single().Port}" },
            StringComparer.Ordinal);
        var file = Path.Combine(directory, "dapr-name-resolution.json");
        var temporary = file + ".tmp";
        File.WriteAllText(temporary, System.Text.Json.JsonSerializer.Serialize(new { apps }));
        File.Move(temporary, file, overwrite: true);
        foreach (var sidecar in sidecars)
        {
            sidecar.NameResolutionFile = file;
        }
    }

    private static void AddSidecarArguments(
        CommandLineArgsCallbackContext context, DaprSidecarOptions options, IResource app, List<string> resourcesPaths, DaprSidecarRuntime runtime)
    {
        var appPort = options.AppPort ?? app.Annotations.OfType<EndpointAnnotation>().FirstOrDefault(endpoint => endpoint.Name == "http")?.Port;
        if (appPort is not null)
        {
            context.Args.Add("--app-port");
            context.Args.Add(appPort.Value.ToString());
        }

        AddOption(context.Args, "--app-protocol", options.AppProtocol ?? "http");
        AddOption(context.Args, "--app-channel-address", options.AppChannelAddress ?? "127.0.0.1");
        AddOption(context.Args, "--dapr-http-port", context.TargetPortOf("http").ToString());
        AddOption(context.Args, "--log-level", options.LogLevel);
        foreach (var path in resourcesPaths)
        {
            AddOption(context.Args, "--resources-path", path);
        }

        if (runtime.IsDaprd)
        {
            // daprd's own defaults (50001, 9090, …) would collide between the sidecars of one machine.
            AddOption(context.Args, "--dapr-grpc-port", Orchestration.Ports.Free().ToString());
            AddOption(context.Args, "--dapr-internal-grpc-port", Orchestration.Ports.Free().ToString());
            AddOption(context.Args, "--metrics-port", Orchestration.Ports.Free().ToString());
        }
    }

    private static ParameterResource SharedApiToken(IDistributedApplicationBuilder model) =>
        model.Resources.OfType<ParameterResource>().FirstOrDefault(parameter => parameter.Name == ApiTokenParameter)
        ?? ResourceExtensions.GeneratedPassword(model, ApiTokenParameter);

    private static void AddToken(EnvironmentCallbackContext context, string variable, ParameterResource? token)
    {
        if (token is not null)
        {
            context.EnvironmentVariables.TryAdd(variable, token.Value);
        }
    }

    private static void AddOption(IList<string> args, string name, string? value)
    {
        if (value is not null)
        {
            args.Add(name);
            args.Add(value);
        }
    }
}
