namespace CloudScale.Notification.Notifications;

/// <summary>A notification as stored and served; <see cref="ReadAt"/> is null while it is unread.</summary>
internal sealed record UserNotification(
    Guid Id, string UserId, string Kind, string Title, string Body, DateTimeOffset CreatedAt, DateTimeOffset? ReadAt);

/// <summary>What an integration event tells its user; <see cref="Kind"/> is the event's topic.</summary>
internal sealed record NewNotification(string UserId, string Kind, string Title, string Body);

/// <summary>One page of a user's notifications, newest first; pass <see cref="NextCursor"/> back for the next one.</summary>
internal sealed record NotificationPage(IReadOnlyList<UserNotification> Items, string? NextCursor);

internal sealed record UnreadCount(string UserId, long Unread);
