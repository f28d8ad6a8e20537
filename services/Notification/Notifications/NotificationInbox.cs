namespace CloudScale.Notification.Notifications;

/// <summary>Where integration events become notifications: stored once per event, then counted and pushed to the user's streams.</summary>
internal sealed class NotificationInbox(NotificationStore store, UnreadCounter unread, NotificationBroadcast broadcast)
{
    /// <summary>True when this delivery stored the event's notification, false when an earlier delivery of the same event did.</summary>
    public async Task<bool> ReceiveAsync(string eventId, NewNotification notification, CancellationToken cancellationToken)
    {
        if (await store.AddOnceAsync(eventId, notification, cancellationToken) is not { } created)
        {
            return false;
        }

        // Only the delivery that inserted the row counts it and pushes it; a redelivery finds the row and does neither.
        // Both only mirror the committed row, so neither fails the delivery.
        await unread.IncrementAsync(created.UserId);
        await broadcast.PublishAsync(created);
        return true;
    }
}
