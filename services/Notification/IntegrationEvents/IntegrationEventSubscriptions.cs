using Dapr;

namespace CloudScale.Notification.IntegrationEvents;

/// <summary>The topics Notification subscribes to through its sidecar; only the sidecar (app API token) may call these routes.</summary>
internal static class IntegrationEventSubscriptions
{
    public const string PubSubName = "pubsub";

    /// <summary>Where the sidecar puts events a handler dropped as poison or kept failing on, for an operator to inspect.</summary>
    public const string DeadLetterTopic = "notification.deadletter";

    public static IEndpointRouteBuilder MapIntegrationEventSubscriptions(this IEndpointRouteBuilder app)
    {
        app.MapSubscribeHandler().RequireAuthorization(DaprSidecarExtensions.SidecarPolicy).ExcludeFromDescription();
        var events = app.MapGroup("/integration-events").WithTags("Integration events").RequireAuthorization(DaprSidecarExtensions.SidecarPolicy);
        Subscribe<OrderConfirmedIntegrationEvent>(events);
        Subscribe<OrderCancelledIntegrationEvent>(events);
        return app;
    }

    private static void Subscribe<TEvent>(RouteGroupBuilder events)
        where TEvent : class, IIntegrationEvent =>
        events.MapPost("/" + TEvent.Topic, (HttpContext context, IntegrationEventReceiver receiver) => receiver.ReceiveAsync<TEvent>(context))
            .WithTopic(new TopicOptions { PubsubName = PubSubName, Name = TEvent.Topic, DeadLetterTopic = DeadLetterTopic });
}
