using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using Dapr;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Microsoft.AspNetCore.Builder;

public static partial class DaprEndpointRouteBuilderExtensions
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        // Read by the sidecar, never embedded in HTML: match expressions keep their quotes readable (\" rather than \u0022).
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>
    /// Maps <c>GET /dapr/subscribe</c>, which the sidecar reads at start-up: one subscription per pub/sub and topic named by the
    /// endpoints' <c>[Topic]</c> / <c>.WithTopic(…)</c> metadata. Endpoints with a match expression become <c>routes.rules</c> in
    /// priority order and the one without becomes <c>routes.default</c>; a topic with no rules gets the plain <c>route</c>.
    /// Protect it, like the topic endpoints, with <c>.RequireAuthorization("Dapr")</c> when <c>APP_API_TOKEN</c> is used.
    /// </summary>
    public static IEndpointConventionBuilder MapSubscribeHandler(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        return endpoints.MapGet("/dapr/subscribe", context =>
        {
            var logger = context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(TopicAttribute).FullName!);
            var subscriptions = Subscriptions(context.RequestServices.GetRequiredService<EndpointDataSource>().Endpoints, logger);
            return context.Response.WriteAsJsonAsync(subscriptions, Json, context.RequestAborted);
        }).ExcludeFromDescription();
    }

    private static List<Subscription> Subscriptions(IEnumerable<Endpoint> endpoints, ILogger logger)
    {
        var topics = new List<TopicRoute>();
        foreach (var endpoint in endpoints.OfType<RouteEndpoint>())
        {
            var subscribed = endpoint.Metadata.GetOrderedMetadata<ITopicMetadata>();
            if (subscribed.Count == 0)
            {
                continue;
            }

            if (LiteralPath(endpoint.RoutePattern) is not { } path)
            {
                LogRouteHasParameters(logger, endpoint.RoutePattern.RawText, subscribed[0].Name);
                continue;
            }

            var metadata = endpoint.Metadata.GetOrderedMetadata<TopicMetadataAttribute>();
            topics.AddRange(subscribed.Distinct().Select(topic => new TopicRoute(topic, path, metadata)));
        }

        return [.. topics
            .GroupBy(route => (route.Topic.PubsubName, route.Topic.Name))
            .OrderBy(group => group.Key.PubsubName, StringComparer.Ordinal)
            .ThenBy(group => group.Key.Name, StringComparer.Ordinal)
            .Select(group => ToSubscription(group.Key.PubsubName, group.Key.Name, [.. group.OrderBy(route => route.Topic.Priority)], logger))];
    }

    private static Subscription ToSubscription(string pubsubName, string topic, IReadOnlyList<TopicRoute> routes, ILogger logger)
    {
        var rules = routes.Where(route => !string.IsNullOrEmpty(route.Topic.Match)).Select(route => new SubscriptionRule(route.Topic.Match!, route.Path)).ToList();
        var defaults = routes.Where(route => string.IsNullOrEmpty(route.Topic.Match)).Select(route => route.Path).Distinct(StringComparer.Ordinal).ToList();
        if (defaults.Count > 1)
        {
            LogSeveralDefaultRoutes(logger, pubsubName, topic, string.Join(", ", defaults), defaults[0]);
        }

        // As in the SDK, metadata of several endpoints of one topic is merged, distinct values of one key comma-joined.
        var metadata = routes.SelectMany(route => route.Metadata)
            .GroupBy(entry => entry.Name, StringComparer.Ordinal)
            .ToDictionary(group => group.Key, group => string.Join(',', group.Select(entry => entry.Value).Distinct(StringComparer.Ordinal)), StringComparer.Ordinal);
        if (routes.Any(route => route.Topic.EnableRawPayload))
        {
            metadata["rawPayload"] = "true";
        }

        var deadLetterTopic = routes.Select(route => route.Topic.DeadLetterTopic).FirstOrDefault(name => !string.IsNullOrEmpty(name));
        var defaultRoute = defaults.FirstOrDefault();
        return new Subscription(
            pubsubName,
            topic,
            Route: rules.Count == 0 ? defaultRoute : null,
            Routes: rules.Count == 0 ? null : new SubscriptionRoutes(rules, defaultRoute),
            Metadata: metadata.Count == 0 ? null : metadata,
            DeadLetterTopic: deadLetterTopic);
    }

    /// <summary>The path of a route without parameters (<c>/orders/created</c>); <c>null</c> for one with parameters, which the sidecar could not call.</summary>
    private static string? LiteralPath(RoutePattern pattern) =>
        pattern.Parameters.Count > 0
            ? null
            : "/" + string.Join('/', pattern.PathSegments.Select(segment => string.Concat(segment.Parts.OfType<RoutePatternLiteralPart>().Select(part => part.Content))));

    [LoggerMessage(Level = LogLevel.Warning, Message = "Route '{Route}' has parameters, so it cannot receive topic '{Topic}'; its subscription is left out of /dapr/subscribe.")]
    private static partial void LogRouteHasParameters(ILogger logger, string? route, string topic);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Topic '{Topic}' of pub/sub '{PubsubName}' has several routes without a match expression ({Routes}); '{Used}' is its default route.")]
    private static partial void LogSeveralDefaultRoutes(ILogger logger, string pubsubName, string topic, string routes, string used);

    private sealed record TopicRoute(ITopicMetadata Topic, string Path, IReadOnlyList<TopicMetadataAttribute> Metadata);

    /// <summary>One entry of daprd's programmatic subscription list (v2alpha1 <c>routes</c>, or the v1 <c>route</c> when there are no rules).</summary>
    private sealed record Subscription(
        // daprd's own spelling; web casing would give "pubsubName".
        [property: JsonPropertyName("pubsubname")] string PubsubName,
        string Topic,
        string? Route,
        SubscriptionRoutes? Routes,
        IReadOnlyDictionary<string, string>? Metadata,
        string? DeadLetterTopic);

    private sealed record SubscriptionRoutes(IReadOnlyList<SubscriptionRule> Rules, string? Default);

    private sealed record SubscriptionRule(string Match, string Path);
}
