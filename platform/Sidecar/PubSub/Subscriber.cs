using System.Diagnostics;
using System.Net;
using System.Text.Json;
using CloudScale.Sidecar.Configuration;
using CloudScale.Sidecar.Invocation;
using Polly;

namespace CloudScale.Sidecar.PubSub;

/// <summary>The subscriptions in force: declarative ones from YAML and the app's own from <c>GET /dapr/subscribe</c>.</summary>
internal sealed class SubscriptionRegistry
{
    private volatile IReadOnlyList<SubscriptionDefinition> _current = [];

    public IReadOnlyList<SubscriptionDefinition> Current => _current;

    public void Set(IReadOnlyList<SubscriptionDefinition> subscriptions) => _current = subscriptions;
}

/// <summary>
/// Discovers the app's subscriptions, then delivers each topic's messages to the app with daprd's semantics:
/// a 2xx with SUCCESS (or no/unparsable body) acks; RETRY, other statuses and transport errors retry through the
/// inbound resiliency policy, then go to the dead-letter topic if there is one; DROP and 404 drop (to the
/// dead-letter topic if there is one). A message still failing with no dead-letter topic is left unacknowledged
/// for the component to redeliver.
/// </summary>
internal sealed partial class Subscriber(
    SidecarOptions options,
    LoadedResources resources,
    PubSubs pubsubs,
    SubscriptionRegistry registry,
    AppChannel channel,
    ResiliencePipelines resiliency,
    ILogger<Subscriber> logger)
{
    private static readonly ActivitySource Source = new("CloudScale.Sidecar");

    /// <summary>Reads the subscriptions, starts them, and returns the task of their delivery loops.</summary>
    public async Task<Task> StartAsync(CancellationToken stopping)
    {
        var subscriptions = new List<SubscriptionDefinition>(resources.Subscriptions);
        if (channel.HasApp)
        {
            subscriptions.AddRange(await DiscoverAsync(stopping));
        }

        registry.Set(subscriptions);
        var tasks = new List<Task>();
        foreach (var subscription in subscriptions)
        {
            if (pubsubs.Find(subscription.PubsubName) is not { } pubsub)
            {
                LogUnknownPubSub(subscription.PubsubName, subscription.Topic);
                continue;
            }

            var policy = resiliency.Definition.ComponentsInbound.GetValueOrDefault(pubsub.Name);
            var pipeline = policy is null
                ? ResiliencePipeline<DeliveryStatus>.Empty
                : ResiliencePipelines.Build<DeliveryStatus>(policy, outcome => outcome.Exception is not null || outcome.Result == DeliveryStatus.Retry);
            tasks.Add(pubsub.SubscribeAsync(subscription.Topic, (message, ct) => HandleAsync(pubsub, subscription, pipeline, message, ct), stopping));
        }

        return Task.WhenAll(tasks);
    }

    private async Task<IReadOnlyList<SubscriptionDefinition>> DiscoverAsync(CancellationToken stopping)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, channel.AppUri("/dapr/subscribe"));
                request.Headers.TryAddWithoutValidation("dapr-app-id", options.AppId);
                using var response = await channel.SendAsync(request, toApp: true, stopping);
                if (response.StatusCode == HttpStatusCode.NotFound)
                {
                    return [];
                }

                if (!response.IsSuccessStatusCode)
                {
                    LogDiscoveryStatus((int)response.StatusCode);
                    return [];
                }

                var body = await response.Content.ReadAsByteArrayAsync(stopping);
                try
                {
                    using var document = JsonDocument.Parse(body);
                    return ParseProgrammatic(document.RootElement);
                }
                catch (JsonException exception)
                {
                    // An app that answers 200 with no or non-JSON body has no subscriptions, as for daprd.
                    LogDiscoveryUnreadable(exception.Message);
                    return [];
                }
            }
            catch (HttpRequestException exception) when (attempt < 3)
            {
                LogDiscoveryRetry(exception.Message);
                await Task.Delay(TimeSpan.FromMilliseconds(500), stopping);
            }
        }
    }

    private List<SubscriptionDefinition> ParseProgrammatic(JsonElement root)
    {
        var subscriptions = new List<SubscriptionDefinition>();
        if (root.ValueKind != JsonValueKind.Array)
        {
            return subscriptions;
        }

        foreach (var item in root.EnumerateArray())
        {
            var pubsubName = String(item, "pubsubname");
            var topic = String(item, "topic");
            var rules = new List<RouteRule>();
            var defaultRoute = String(item, "route");
            if (item.TryGetProperty("routes", out var routes) && routes.ValueKind == JsonValueKind.Object)
            {
                defaultRoute = String(routes, "default") ?? defaultRoute;
                if (routes.TryGetProperty("rules", out var rulesElement) && rulesElement.ValueKind == JsonValueKind.Array)
                {
                    foreach (var rule in rulesElement.EnumerateArray())
                    {
                        var match = String(rule, "match") ?? "";
                        if (MatchExpression.TryParse(match) is { } expression && String(rule, "path") is { } path)
                        {
                            rules.Add(new RouteRule(match, expression, path));
                        }
                        else
                        {
                            LogUnsupportedRule(match, topic ?? "");
                        }
                    }
                }
            }

            if (pubsubName is null || topic is null || (rules.Count == 0 && defaultRoute is null))
            {
                LogNoRoute(pubsubName ?? "", topic ?? "");
                continue;
            }

            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            if (item.TryGetProperty("metadata", out var metadataElement) && metadataElement.ValueKind == JsonValueKind.Object)
            {
                foreach (var property in metadataElement.EnumerateObject())
                {
                    metadata[property.Name] = property.Value.ValueKind == JsonValueKind.String ? property.Value.GetString()! : property.Value.GetRawText();
                }
            }

            subscriptions.Add(new SubscriptionDefinition(pubsubName, topic, rules, defaultRoute, String(item, "deadLetterTopic"), metadata, SubscriptionKind.Programmatic));
        }

        return subscriptions;
    }

    private async Task HandleAsync(IPubSub pubsub, SubscriptionDefinition subscription, ResiliencePipeline<DeliveryStatus> pipeline, PubSubMessage message, CancellationToken cancellationToken)
    {
        var raw = subscription.Metadata.TryGetValue("rawPayload", out var rawText) && bool.TryParse(rawText, out var rawValue) && rawValue;
        var cloudEvent = raw ? CloudEvents.FromRawPayload(message.Data, message.Topic, pubsub.Name) : message.Data;
        using var document = JsonDocument.Parse(cloudEvent);
        var root = document.RootElement;
        if (root.TryGetProperty("expiration", out var expiration) && DateTimeOffset.TryParse(expiration.GetString(), out var expiresAt) && expiresAt < DateTimeOffset.UtcNow)
        {
            LogExpired(message.Topic);
            return;
        }

        var path = subscription.RouteFor(root);
        DeliveryStatus status;
        if (path is null)
        {
            status = DeliveryStatus.Drop;
        }
        else
        {
            var parent = TraceParentOf(root) ?? (message.Metadata.TryGetValue("traceparent", out var fromMetadata) ? fromMetadata : null);
            using var activity = Source.StartActivity($"pubsub/{message.Topic}", ActivityKind.Consumer, parent);
            try
            {
                status = await pipeline.ExecuteAsync(ct => DeliverAsync(pubsub, path, cloudEvent, message, ct), cancellationToken);
            }
            catch (Exception exception) when (exception is HttpRequestException or Polly.Timeout.TimeoutRejectedException or Polly.CircuitBreaker.BrokenCircuitException or IOException)
            {
                LogDeliveryFailed(message.Topic, exception.Message);
                status = DeliveryStatus.Retry;
            }
        }

        if (status == DeliveryStatus.Success)
        {
            return;
        }

        if (subscription.DeadLetterTopic is { } deadLetter)
        {
            await pubsub.PublishAsync(message with { Topic = deadLetter }, cancellationToken);
            return;
        }

        if (status == DeliveryStatus.Retry)
        {
            // ⚠ contrib >= 1.17 acks here too and so loses the message (components-contrib#4174); we keep the
            // pre-1.17 behaviour: the message stays pending and is reclaimed after processingTimeout.
            throw new DeliveryFailedException($"delivery of a message on topic {message.Topic} failed after retries");
        }

        LogDropped(message.Topic);
    }

    private async ValueTask<DeliveryStatus> DeliverAsync(IPubSub pubsub, string path, byte[] cloudEvent, PubSubMessage message, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, channel.AppUri(path.StartsWith('/') ? path : "/" + path))
        {
            Content = new ByteArrayContent(cloudEvent),
        };
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(CloudEvents.ContentType);
        foreach (var (name, value) in message.Metadata)
        {
            if (name is not ("traceparent" or "tracestate"))
            {
                request.Headers.TryAddWithoutValidation(name, value);
            }
        }

        request.Headers.TryAddWithoutValidation("pubsubName", pubsub.Name);
        using var response = await channel.SendAsync(request, toApp: true, cancellationToken);
        var code = (int)response.StatusCode;
        if (code == 404)
        {
            LogNotFound(path, message.Topic);
            return DeliveryStatus.Drop;
        }

        if (code is < 200 or > 299)
        {
            return DeliveryStatus.Retry;
        }

        var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        try
        {
            using var reply = JsonDocument.Parse(body);
            var status = reply.RootElement.ValueKind == JsonValueKind.Object && reply.RootElement.TryGetProperty("status", out var s) && s.ValueKind == JsonValueKind.String
                ? s.GetString()!.ToUpperInvariant()
                : "";
            return status switch
            {
                "" or "SUCCESS" => DeliveryStatus.Success,
                "DROP" => DeliveryStatus.Drop,
                _ => DeliveryStatus.Retry,
            };
        }
        catch (JsonException)
        {
            return DeliveryStatus.Success;
        }
    }

    private static string? TraceParentOf(JsonElement cloudEvent) =>
        String(cloudEvent, "traceparent") is { Length: > 0 } traceparent ? traceparent
        : String(cloudEvent, "traceid") is { Length: > 0 } traceid ? traceid
        : null;

    private static string? String(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Subscription to topic {Topic} names pubsub {PubSub}, which is not loaded")]
    private partial void LogUnknownPubSub(string pubSub, string topic);

    [LoggerMessage(Level = LogLevel.Error, Message = "GET /dapr/subscribe returned {Status}")]
    private partial void LogDiscoveryStatus(int status);

    [LoggerMessage(Level = LogLevel.Debug, Message = "GET /dapr/subscribe returned no subscriptions: {Reason}")]
    private partial void LogDiscoveryUnreadable(string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "GET /dapr/subscribe failed, retrying: {Reason}")]
    private partial void LogDiscoveryRetry(string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Subscription rule '{Match}' for topic {Topic} is not supported and is ignored")]
    private partial void LogUnsupportedRule(string match, string topic);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Subscription to {PubSub}/{Topic} has no route and is dropped")]
    private partial void LogNoRoute(string pubSub, string topic);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Dropped an expired message on topic {Topic}")]
    private partial void LogExpired(string topic);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Delivery on topic {Topic} failed: {Reason}")]
    private partial void LogDeliveryFailed(string topic, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Dropped a message on topic {Topic}")]
    private partial void LogDropped(string topic);

    [LoggerMessage(Level = LogLevel.Error, Message = "The app returned 404 for {Path} (topic {Topic}): message dropped")]
    private partial void LogNotFound(string path, string topic);
}

internal sealed class DeliveryFailedException(string message) : Exception(message);
