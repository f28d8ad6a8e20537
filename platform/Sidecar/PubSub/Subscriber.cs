using System.Diagnostics;
using System.Net;
using System.Text.Json;
using CloudScale.Sidecar.Configuration;
using CloudScale.Sidecar.Invocation;
using CloudScale.Sidecar.Telemetry;
using Polly;

namespace CloudScale.Sidecar.PubSub;

/// <summary>The subscriptions in force: declarative ones from YAML and the app's own from <c>GET /dapr/subscribe</c>.</summary>
internal sealed class SubscriptionRegistry
{
    private volatile IReadOnlyList<SubscriptionDefinition> _current = [];

    public IReadOnlyList<SubscriptionDefinition> Current => _current;

    public void Set(IReadOnlyList<SubscriptionDefinition> subscriptions) => _current = subscriptions;
}

/// <summary>One delivery attempt as daprd classifies it, with the app's HTTP status when that is what failed.</summary>
[System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Auto)]
internal readonly record struct DeliveryOutcome(DeliveryStatus Status, int? AppStatusCode = null);

/// <summary>
/// Discovers the app's subscriptions, then delivers each topic's messages to the app as daprd's subscription and HTTP
/// postman do (<c>pkg/runtime/subscription</c>): a 2xx with SUCCESS, an empty status or an unreadable body acks;
/// RETRY, any other status string, other HTTP statuses and transport errors are retried by the component's inbound
/// resiliency policy and then go to the dead-letter topic, or, without one, stay unacknowledged for the component to
/// redeliver; DROP acks, after publishing to the dead-letter topic if there is one. Expired events, events no route
/// matches and events that cannot be read go to the dead-letter topic too.
/// </summary>
internal sealed partial class Subscriber(
    SidecarOptions options,
    LoadedResources resources,
    PubSubs pubsubs,
    SubscriptionRegistry registry,
    AppChannel channel,
    ResiliencePipelines resiliency,
    ILoggerFactory loggerFactory,
    ILogger<Subscriber> logger)
{
    private static readonly IReadOnlyDictionary<string, string> NoMetadata = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Reads the subscriptions, starts them, and returns the task of their delivery loops.</summary>
    public async Task<Task> StartAsync(CancellationToken stopping)
    {
        var subscriptions = new List<SubscriptionDefinition>(resources.Subscriptions);
        if (!channel.HasApp)
        {
            // As with daprd, nothing is delivered without an app port; the declarative subscriptions are listed all the same.
            registry.Set(subscriptions);
            return Task.CompletedTask;
        }

        subscriptions.AddRange(await DiscoverAsync(stopping));

        // Two subscriptions to one topic would share one consumer group and split its messages between them.
        var unique = new List<SubscriptionDefinition>();
        foreach (var subscription in subscriptions)
        {
            if (unique.Exists(kept => kept.PubsubName == subscription.PubsubName && kept.Topic == subscription.Topic))
            {
                LogDuplicate(subscription.PubsubName, subscription.Topic);
            }
            else
            {
                unique.Add(subscription);
            }
        }

        registry.Set(unique);
        var pipelines = new Dictionary<string, ResiliencePipeline<DeliveryOutcome>>(StringComparer.Ordinal);
        var tasks = new List<Task>();
        foreach (var subscription in unique)
        {
            if (pubsubs.Find(subscription.PubsubName) is not { } pubsub)
            {
                LogUnknownPubSub(subscription.PubsubName, subscription.Topic);
                continue;
            }

            // One pipeline per component, so that its circuit breaker sees all of the component's deliveries.
            if (!pipelines.TryGetValue(pubsub.Name, out var pipeline))
            {
                pipelines[pubsub.Name] = pipeline = InboundPipeline(pubsub.Name);
            }

            tasks.Add(pubsub.SubscribeAsync(
                subscription.Topic,
                (message, ct) => HandleAsync(pubsub, subscription, pipeline, message, ct),
                loggerFactory.CreateLogger(pubsub.GetType()),
                stopping));
        }

        return Task.WhenAll(tasks);
    }

    private ResiliencePipeline<DeliveryOutcome> InboundPipeline(string pubsubName)
    {
        if (resiliency.Definition.ComponentsInbound.GetValueOrDefault(pubsubName) is not { } policy)
        {
            return ResiliencePipeline<DeliveryOutcome>.Empty;
        }

        // A policy's matching.httpStatusCodes narrows which app statuses are retried; RETRY replies and transport errors always are.
        return ResiliencePipelines.Build<DeliveryOutcome>(policy, outcome => outcome.Exception is not null || (outcome.Result.Status == DeliveryStatus.Retry &&
            (outcome.Result.AppStatusCode is not { } code || (policy.Retry?.MatchesStatus?.Invoke(code) ?? true))));
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
            catch (HttpRequestException exception)
            {
                // The port may accept before the app serves (a proxy in front of it, an app still migrating its
                // database): keep asking, backing off to 5 s, since nothing can be delivered before the answer.
                LogDiscoveryRetry(exception.Message);
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(5_000, 250 * Math.Pow(2, Math.Min(attempt, 5)))), stopping);
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
            if (item.TryGetField("routes", out var routes) && routes.ValueKind == JsonValueKind.Object)
            {
                defaultRoute = String(routes, "default") ?? defaultRoute;
                if (routes.TryGetField("rules", out var rulesElement) && rulesElement.ValueKind == JsonValueKind.Array)
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
            if (item.TryGetField("metadata", out var metadataElement) && metadataElement.ValueKind == JsonValueKind.Object)
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

    private async Task HandleAsync(IPubSub pubsub, SubscriptionDefinition subscription, ResiliencePipeline<DeliveryOutcome> pipeline, PubSubMessage message, CancellationToken cancellationToken)
    {
        var metadata = message.Metadata ?? NoMetadata;
        using var cloudEvent = ReadCloudEvent(pubsub, subscription, message, metadata, out var body);
        if (cloudEvent is null)
        {
            await DeadLetterOrFailAsync(pubsub, subscription, message, cancellationToken);
            return;
        }

        var root = cloudEvent.RootElement;
        var eventId = String(root, "id");
        if (String(root, "expiration") is { } expiration && DateTimeOffset.TryParse(expiration, System.Globalization.CultureInfo.InvariantCulture, out var expiresAt) && expiresAt < DateTimeOffset.UtcNow)
        {
            LogExpired(message.Topic, eventId);
            await DeadLetterAsync(pubsub, subscription, message, cancellationToken);
            return;
        }

        if (subscription.RouteFor(root) is not { } path)
        {
            LogNoMatchingRoute(message.Topic, eventId);
            await DeadLetterAsync(pubsub, subscription, message, cancellationToken);
            return;
        }

        // The delivery span continues the publisher's trace: the event's traceparent, else the message metadata's.
        var parent = TraceParentOf(root) ?? metadata.GetValueOrDefault("traceparent") ?? metadata.GetValueOrDefault("traceid");
        using var activity = SidecarTelemetry.Source.StartActivity($"pubsub/{message.Topic}", ActivityKind.Consumer, parent);
        DeliveryOutcome outcome;
        try
        {
            outcome = await pipeline.ExecuteAsync(ct => DeliverAsync(pubsub, path, body, eventId, metadata, ct), cancellationToken);
        }
        catch (Exception exception) when (exception is HttpRequestException or Polly.Timeout.TimeoutRejectedException or Polly.CircuitBreaker.BrokenCircuitException or IOException)
        {
            LogDeliveryFailed(message.Topic, exception.Message);
            outcome = new DeliveryOutcome(DeliveryStatus.Retry);
        }

        switch (outcome.Status)
        {
            case DeliveryStatus.Drop:
                LogDropped(message.Topic, eventId);
                await DeadLetterAsync(pubsub, subscription, message, cancellationToken);
                break;
            case DeliveryStatus.Retry:
                // Shutting down is not a failure of the message: it is neither dead-lettered nor acknowledged.
                cancellationToken.ThrowIfCancellationRequested();
                await DeadLetterOrFailAsync(pubsub, subscription, message, cancellationToken);
                break;
        }
    }

    /// <summary>
    /// The event to deliver and its bytes: the CloudEvent as published or, for a <c>rawPayload</c> subscription, the
    /// one daprd makes up around the raw bytes; null, logged, when it cannot be read.
    /// </summary>
    private JsonDocument? ReadCloudEvent(IPubSub pubsub, SubscriptionDefinition subscription, PubSubMessage message, IReadOnlyDictionary<string, string> metadata, out byte[] body)
    {
        body = message.Data;
        var raw = false;
        if (subscription.Metadata.GetValueOrDefault("rawPayload") is { Length: > 0 } rawText && !GoStrconv.TryParseBool(rawText, out raw))
        {
            LogUnreadable(message.Topic, $"rawPayload value must be a valid boolean: actual is '{rawText}'");
            return null;
        }

        if (raw)
        {
            body = CloudEvents.FromRawPayload(message.Data, message.Topic, pubsub.Name, metadata);
        }

        try
        {
            return JsonDocument.Parse(body);
        }
        catch (JsonException exception)
        {
            LogUnreadable(message.Topic, exception.Message);
            return null;
        }
    }

    private async ValueTask<DeliveryOutcome> DeliverAsync(IPubSub pubsub, string path, byte[] cloudEvent, string? eventId, IReadOnlyDictionary<string, string> metadata, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, channel.AppUri(path.StartsWith('/') ? path : "/" + path))
        {
            Content = new ByteArrayContent(cloudEvent),
        };
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(CloudEvents.ContentType);
        foreach (var (name, value) in metadata)
        {
            // The delivery span's own context is sent instead.
            if (name is not ("traceparent" or "tracestate"))
            {
                request.Headers.TryAddWithoutValidation(name, value);
            }
        }

        request.Headers.Remove("pubsubName");
        request.Headers.TryAddWithoutValidation("pubsubName", pubsub.Name);
        using var response = await channel.SendAsync(request, toApp: true, cancellationToken);
        var code = (int)response.StatusCode;
        if (code is >= 200 and <= 299)
        {
            return new DeliveryOutcome(ReadAppStatus(await response.Content.ReadAsByteArrayAsync(cancellationToken)));
        }

        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        if (code == 404)
        {
            // ⚠ The reference says a 404 drops to the dead-letter topic; daprd's HTTP postman returns nil for it, which
            // acknowledges the message without dead-lettering it. We follow the code.
            LogNotFound(eventId, body, path);
            return new DeliveryOutcome(DeliveryStatus.Success);
        }

        LogAppError(eventId, body, code);
        return new DeliveryOutcome(DeliveryStatus.Retry, code);
    }

    /// <summary>
    /// The <c>status</c> of a 2xx reply as Go decodes it into <c>AppResponse</c>: the first JSON value, field names
    /// case-insensitive, values case-sensitive; a body that is empty or does not decode counts as SUCCESS.
    /// </summary>
    private static DeliveryStatus ReadAppStatus(byte[] body)
    {
        string? status;
        try
        {
            var reader = new Utf8JsonReader(body);
            if (!JsonDocument.TryParseValue(ref reader, out var document))
            {
                return DeliveryStatus.Success;
            }

            using (document)
            {
                // Anything but an object (or null) fails to decode into the struct, which counts as SUCCESS too.
                if (document.RootElement.ValueKind != JsonValueKind.Object)
                {
                    return DeliveryStatus.Success;
                }

                document.RootElement.TryGetField("status", out var property);
                status = property.ValueKind switch
                {
                    JsonValueKind.String => property.GetString(),
                    JsonValueKind.Undefined or JsonValueKind.Null => "",
                    _ => null,
                };
            }
        }
        catch (JsonException)
        {
            return DeliveryStatus.Success;
        }

        return status switch
        {
            // A status that is not a string fails to decode, which daprd treats as no status at all.
            null or "" or "SUCCESS" => DeliveryStatus.Success,
            "DROP" => DeliveryStatus.Drop,
            _ => DeliveryStatus.Retry,
        };
    }

    private static async Task DeadLetterAsync(IPubSub pubsub, SubscriptionDefinition subscription, PubSubMessage message, CancellationToken cancellationToken)
    {
        if (subscription.DeadLetterTopic is { } deadLetter)
        {
            await pubsub.PublishAsync(message with { Topic = deadLetter }, cancellationToken);
        }
    }

    /// <summary>Dead-letters the message, or, without a dead-letter topic, fails so that the component redelivers it.</summary>
    private static async Task DeadLetterOrFailAsync(IPubSub pubsub, SubscriptionDefinition subscription, PubSubMessage message, CancellationToken cancellationToken)
    {
        // ⚠ contrib >= 1.17 acks here too and so loses the message (components-contrib#4174); we keep the
        // pre-1.17 behaviour: the message stays pending and is reclaimed after processingTimeout.
        if (subscription.DeadLetterTopic is null)
        {
            throw new DeliveryFailedException($"delivery of a message on topic {message.Topic} failed");
        }

        await DeadLetterAsync(pubsub, subscription, message, cancellationToken);
    }

    private static string? TraceParentOf(JsonElement cloudEvent) =>
        String(cloudEvent, "traceparent") is { Length: > 0 } traceparent ? traceparent
        : String(cloudEvent, "traceid") is { Length: > 0 } traceid ? traceid
        : null;

    private static string? String(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetField(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Subscription to topic {Topic} names pubsub {PubSub}, which is not loaded")]
    private partial void LogUnknownPubSub(string pubSub, string topic);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Duplicate subscription to {PubSub}/{Topic} is ignored; the first one is kept")]
    private partial void LogDuplicate(string pubSub, string topic);

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

    [LoggerMessage(Level = LogLevel.Error, Message = "Error deserializing cloud event on topic {Topic}: {Reason}")]
    private partial void LogUnreadable(string topic, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Dropping expired pub/sub event {Id} on topic {Topic}")]
    private partial void LogExpired(string topic, string? id);

    [LoggerMessage(Level = LogLevel.Debug, Message = "No matching route for event {Id} on topic {Topic}; skipping")]
    private partial void LogNoMatchingRoute(string topic, string? id);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Delivery on topic {Topic} failed: {Reason}")]
    private partial void LogDeliveryFailed(string topic, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "DROP status returned from app while processing pub/sub event {Id} on topic {Topic}")]
    private partial void LogDropped(string topic, string? id);

    [LoggerMessage(Level = LogLevel.Error, Message = "Non-retriable error returned from app while processing pub/sub event {Id}: {Body}. status code returned: 404 ({Path})")]
    private partial void LogNotFound(string? id, string body, string path);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Retriable error returned from app while processing pub/sub event {Id}, body: {Body}. status code returned: {Status}")]
    private partial void LogAppError(string? id, string body, int status);
}

internal sealed class DeliveryFailedException(string message) : Exception(message);
