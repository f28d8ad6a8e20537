using System.Net;
using CloudScale.Sidecar;
using CloudScale.Sidecar.Api;
using CloudScale.Sidecar.Configuration;
using CloudScale.Sidecar.Invocation;
using CloudScale.Sidecar.PubSub;
using CloudScale.Sidecar.State;
using CloudScale.Sidecar.Telemetry;

SidecarOptions options;
LoadedResources resources;
StateStores states;
PubSubs pubsubs;
try
{
    options = SidecarOptions.Parse(args, Environment.GetEnvironmentVariable);
    resources = ResourceLoader.Load(options.ResourcesPaths, options.AppId);
    (states, pubsubs) = await Components.InitAsync(resources, options, CancellationToken.None);
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
}

builder.WebHost.ConfigureKestrel(kestrel =>
{
    kestrel.AddServerHeader = false;
    foreach (var address in options.ListenAddresses)
    {
        kestrel.Listen(address == "localhost" ? IPAddress.Loopback : IPAddress.Parse(address), options.HttpPort);
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

var app = builder.Build();
if (options.ApiToken is { } token)
{
    app.UseMiddleware<ApiTokenMiddleware>(token);
}

app.UseMiddleware<DaprErrorMiddleware>();
RuntimeApi.Map(app);
StateApi.Map(app);
PublishApi.Map(app);
InvocationApi.Map(app);
app.Services.GetRequiredService<Readiness>().MarkComponentsReady();

await app.RunAsync();
await states.DisposeAsync();
await pubsubs.DisposeAsync();
return 0;
