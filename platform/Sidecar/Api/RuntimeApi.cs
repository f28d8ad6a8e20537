using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using CloudScale.Sidecar.Configuration;
using CloudScale.Sidecar.PubSub;
using CloudScale.Sidecar.State;
using CloudScale.Sidecar.Workflow;

namespace CloudScale.Sidecar.Api;

/// <summary>Metadata, health and shutdown routes.</summary>
internal static class RuntimeApi
{
    public const string RuntimeVersion = "1.17.0-cloudscale";

    public static void Map(IEndpointRouteBuilder routes)
    {
        var api = routes.MapGroup("/v1.0");
        api.MapGet("/healthz", Healthz);
        api.MapGet("/healthz/outbound", HealthzOutbound);
        api.MapGet("/metadata", MetadataAsync);
        api.MapPut("/metadata/{key}", PutMetadataAsync);
        api.MapPost("/shutdown", Shutdown);
    }

    private static Task Healthz(HttpContext context)
    {
        var options = context.RequestServices.GetRequiredService<SidecarOptions>();
        var readiness = context.RequestServices.GetRequiredService<Readiness>();
        if (context.Request.Query["appid"].FirstOrDefault() is { Length: > 0 } appId && appId != options.AppId)
        {
            return new DaprError(StatusCodes.Status500InternalServerError, "ERR_HEALTH_APPID_NOT_MATCH", "dapr app-id does not match").WriteAsync(context.Response);
        }

        if (!readiness.ComponentsReady || !readiness.AppReady)
        {
            var targets = new List<string>();
            if (!readiness.ComponentsReady)
            {
                targets.Add("components");
            }

            if (!readiness.AppReady)
            {
                targets.Add("app");
            }

            return new DaprError(StatusCodes.Status500InternalServerError, "ERR_HEALTH_NOT_READY", $"dapr is not ready: [{string.Join(' ', targets)}]").WriteAsync(context.Response);
        }

        context.Response.StatusCode = StatusCodes.Status204NoContent;
        return Task.CompletedTask;
    }

    private static Task HealthzOutbound(HttpContext context)
    {
        if (!context.RequestServices.GetRequiredService<Readiness>().ComponentsReady)
        {
            return new DaprError(StatusCodes.Status500InternalServerError, "ERR_OUTBOUND_HEALTH_NOT_READY", "dapr outbound is not ready").WriteAsync(context.Response);
        }

        context.Response.StatusCode = StatusCodes.Status204NoContent;
        return Task.CompletedTask;
    }

    private static async Task PutMetadataAsync(HttpContext context)
    {
        using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
        var value = await reader.ReadToEndAsync(context.RequestAborted);
        context.RequestServices.GetRequiredService<ExtendedMetadata>().Values[(string)context.Request.RouteValues["key"]!] = value;
        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    /// <summary>The registered components as the metadata API lists them: state stores, pub/subs, secret stores.</summary>
    public static IEnumerable<(string Name, string Type, string Version, IReadOnlyList<string> Capabilities)> Components(IServiceProvider services) =>
        services.GetRequiredService<StateStores>().All.Select(store => (store.Name, store.Type, store.Version, store.Capabilities))
            .Concat(services.GetRequiredService<PubSubs>().All.Select(pubsub => (pubsub.Name, pubsub.Type, "v1", (IReadOnlyList<string>)[])))
            .Concat(services.GetRequiredService<LoadedResources>().Components
                .Where(component => component.Type.StartsWith("secretstores.", StringComparison.Ordinal))
                .Select(component => (component.Name, component.Type, component.Version, (IReadOnlyList<string>)[])));

    /// <summary>Stops the sidecar once the response to the shutdown call has gone out; forced, at once.</summary>
    public static void ShutdownAfter(HttpContext context, bool force)
    {
        var lifetime = context.RequestServices.GetRequiredService<IHostApplicationLifetime>();
        context.Response.OnCompleted(() =>
        {
            if (force)
            {
                Environment.Exit(0);
            }

            lifetime.StopApplication();
            return Task.CompletedTask;
        });
    }

    private static Task Shutdown(HttpContext context)
    {
        ShutdownAfter(context, string.Equals(context.Request.Headers["dapr-force-shutdown"], "true", StringComparison.OrdinalIgnoreCase));
        context.Response.StatusCode = StatusCodes.Status204NoContent;
        return Task.CompletedTask;
    }

    private static async Task MetadataAsync(HttpContext context)
    {
        var services = context.RequestServices;
        var options = services.GetRequiredService<SidecarOptions>();
        var subscriptions = services.GetRequiredService<SubscriptionRegistry>();
        context.Response.ContentType = "application/json";
        await using var writer = new Utf8JsonWriter(context.Response.BodyWriter);
        writer.WriteStartObject();
        writer.WriteString("id", options.AppId);
        writer.WriteString("runtimeVersion", RuntimeVersion);
        writer.WriteStartArray("enabledFeatures");
        writer.WriteEndArray();
        writer.WriteStartArray("actors");
        writer.WriteEndArray();
        writer.WriteStartArray("components");
        foreach (var (name, type, version, capabilities) in Components(services))
        {
            WriteComponent(writer, name, type, version, capabilities);
        }

        writer.WriteEndArray();
        writer.WriteStartObject("extended");
        writer.WriteString("daprRuntimeVersion", RuntimeVersion);
        foreach (var (key, value) in services.GetRequiredService<ExtendedMetadata>().Values)
        {
            writer.WriteString(key, value);
        }

        writer.WriteEndObject();
        WriteSubscriptions(writer, subscriptions.Current);
        writer.WriteStartArray("httpEndpoints");
        writer.WriteEndArray();
        writer.WriteStartObject("appConnectionProperties");
        if (options.AppPort is { } port)
        {
            writer.WriteNumber("port", port);
        }

        writer.WriteString("protocol", options.AppProtocol);
        writer.WriteString("channelAddress", options.AppChannelAddress);
        writer.WriteEndObject();
        // daprd's struct is omitzero and its count omitempty: no "workflows" at all while no worker is connected.
        if (services.GetRequiredService<WorkflowBackend>().ConnectedWorkers is > 0 and var workers)
        {
            writer.WriteStartObject("workflows");
            writer.WriteNumber("connectedWorkers", workers);
            writer.WriteEndObject();
        }

        writer.WriteEndObject();
        await writer.FlushAsync(context.RequestAborted);
    }

    private static void WriteSubscriptions(Utf8JsonWriter writer, IReadOnlyList<SubscriptionDefinition> subscriptions)
    {
        writer.WriteStartArray("subscriptions");
        foreach (var subscription in subscriptions)
        {
            writer.WriteStartObject();
            writer.WriteString("pubsubname", subscription.PubsubName);
            writer.WriteString("topic", subscription.Topic);
            if (subscription.Metadata.Count > 0)
            {
                writer.WriteStartObject("metadata");
                foreach (var (key, value) in subscription.Metadata)
                {
                    writer.WriteString(key, value);
                }

                writer.WriteEndObject();
            }

            writer.WriteStartArray("rules");
            foreach (var rule in subscription.Rules)
            {
                writer.WriteStartObject();
                writer.WriteString("match", rule.Match);
                writer.WriteString("path", rule.Path);
                writer.WriteEndObject();
            }

            if (subscription.DefaultRoute is not null)
            {
                writer.WriteStartObject();
                writer.WriteString("path", subscription.DefaultRoute);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            if (subscription.DeadLetterTopic is not null)
            {
                writer.WriteString("deadLetterTopic", subscription.DeadLetterTopic);
            }

            writer.WriteString("type", subscription.Kind == SubscriptionKind.Declarative ? "DECLARATIVE" : "PROGRAMMATIC");
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
    }

    private static void WriteComponent(Utf8JsonWriter writer, string name, string type, string version, IReadOnlyList<string> capabilities)
    {
        writer.WriteStartObject();
        writer.WriteString("name", name);
        writer.WriteString("type", type);
        writer.WriteString("version", version);
        if (capabilities.Count > 0)
        {
            writer.WriteStartArray("capabilities");
            foreach (var capability in capabilities)
            {
                writer.WriteStringValue(capability);
            }

            writer.WriteEndArray();
        }

        writer.WriteEndObject();
    }
}

/// <summary>Values set with <c>PUT /v1.0/metadata/{key}</c>, shown under <c>extended</c>.</summary>
internal sealed class ExtendedMetadata
{
    public ConcurrentDictionary<string, string> Values { get; } = new(StringComparer.Ordinal);
}
