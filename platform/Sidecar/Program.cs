using System.Net;
using CloudScale.Sidecar;
using CloudScale.Sidecar.Api;
using CloudScale.Sidecar.Configuration;
using CloudScale.Sidecar.GrpcApi;
using CloudScale.Sidecar.Invocation;
using CloudScale.Sidecar.PubSub;
using CloudScale.Sidecar.State;
using CloudScale.Sidecar.Telemetry;
using CloudScale.Sidecar.Workflow;
using Grpc.AspNetCore.Server;
using Grpc.AspNetCore.Server.Model;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection.Extensions;

SidecarOptions options;
LoadedResources resources;
StateStores states;
PubSubs pubsubs;
WorkflowStore? workflowStore;
try
{
    options = SidecarOptions.Parse(args, Environment.GetEnvironmentVariable);
    resources = ResourceLoader.Load(options.ResourcesPaths, options.AppId);
    (states, pubsubs) = await Components.InitAsync(resources, options, CancellationToken.None);
    workflowStore = WorkflowStore.Select(resources, states);
}
catch (ConfigurationException exception)
{
    await Console.Error.WriteLineAsync($"error: {exception.Message}");
    return 1;
}

// Our own arguments are not configuration: an empty argument list keeps them out of IConfiguration.
var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ApplicationName = "CloudScale.Sidecar" });
builder.Logging.SetMinimumLevel(options.LogLevel);
if (options.LogLevel > LogLevel.Debug)
{
    builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
    builder.Logging.AddFilter("Microsoft.Hosting", LogLevel.Warning);
    builder.Logging.AddFilter("Grpc", LogLevel.Warning);
}

builder.WebHost.ConfigureKestrel(kestrel =>
{
    kestrel.AddServerHeader = false;
    foreach (var address in options.ListenAddresses.Select(address => address == "localhost" ? IPAddress.Loopback : IPAddress.Parse(address)))
    {
        kestrel.Listen(address, options.HttpPort, listen => listen.Protocols = HttpProtocols.Http1);
        // gRPC without TLS, as daprd serves it to its app: HTTP/2 with prior knowledge.
        kestrel.Listen(address, options.GrpcPort, listen => listen.Protocols = HttpProtocols.Http2);
    }
});
builder.AddSidecarTelemetry(options);
builder.Services.AddSingleton(options);
builder.Services.AddSingleton(resources);
builder.Services.AddSingleton(states);
builder.Services.AddSingleton(pubsubs);
builder.Services.AddSingleton(new ResiliencePipelines(resources.Resiliency));
builder.Services.AddSingleton(new NameResolver(options.NameResolutionFile, NameResolver.FromEnvironment(Environment.GetEnvironmentVariables())));
builder.Services.AddSingleton<AppChannel>();
builder.Services.AddSingleton<Readiness>();
builder.Services.AddSingleton<ExtendedMetadata>();
builder.Services.AddSingleton<SubscriptionRegistry>();
builder.Services.AddSingleton<Subscriber>();
builder.Services.AddHostedService<AppConnection>();
builder.Services.AddGrpc(grpc =>
{
    if (options.ApiToken is not null)
    {
        grpc.Interceptors.Add<ApiTokenInterceptor>();
    }
});
builder.Services.AddSingleton(new SidecarTokens(options.ApiToken));
builder.Services.AddSingleton<DaprGrpcService>();
builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IServiceMethodProvider<DaprGrpcService>, DaprServiceBinder>());
builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddSingleton(services => new WorkflowBackend(
    workflowStore, WorkflowTimings.Default with { LeaseDuration = options.WorkflowLease }, TimeProvider.System, services.GetRequiredService<ILogger<WorkflowBackend>>()));
builder.Services.AddHostedService<WorkflowScanner>();
builder.Services.AddSingleton<TaskHubService>();
builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IServiceMethodProvider<TaskHubService>, TaskHubServiceBinder>());

var app = builder.Build();
app.UseDaprSpanNames();
// Each port serves its own API, told apart by the port the connection came in on (a Host header is the client's to
// choose): the gRPC port only gRPC methods, whose interceptor checks the token; every other request gets the HTTP
// API's token check and error bodies.
app.Use((context, next) =>
{
    if (context.Connection.LocalPort == options.GrpcPort && context.GetEndpoint()?.Metadata.GetMetadata<GrpcMethodMetadata>() is null)
    {
        context.Response.StatusCode = StatusCodes.Status404NotFound;
        return Task.CompletedTask;
    }

    return next(context);
});
app.UseWhen(context => context.Connection.LocalPort != options.GrpcPort, http =>
{
    if (options.ApiToken is { } token)
    {
        http.UseMiddleware<ApiTokenMiddleware>(token);
    }

    http.UseMiddleware<DaprErrorMiddleware>();
});
app.MapGrpcService<DaprGrpcService>();
app.MapGrpcService<TaskHubService>();
RuntimeApi.Map(app);
StateApi.Map(app);
PublishApi.Map(app);
InvocationApi.Map(app);
WorkflowHttpApi.Map(app);
app.Services.GetRequiredService<Readiness>().MarkComponentsReady();

await app.RunAsync();
await states.DisposeAsync();
await pubsubs.DisposeAsync();
return 0;
