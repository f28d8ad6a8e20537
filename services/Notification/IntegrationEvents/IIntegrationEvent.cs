using CloudScale.Notification.Notifications;

namespace CloudScale.Notification.IntegrationEvents;

/// <summary>
/// An integration event Notification subscribes to: the topic it is published on, the CloudEvent <c>type</c> of the one
/// version this build understands, and the notification it becomes for its customer.
/// </summary>
internal interface IIntegrationEvent
{
    static abstract string Topic { get; }

    static abstract string CloudEventType { get; }

    string CustomerId { get; }

    NewNotification ToNotification();
}
