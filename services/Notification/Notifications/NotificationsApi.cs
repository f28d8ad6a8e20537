using CloudScale.ServiceDefaults.Paging;
using CloudScale.Notification.Api;
using Microsoft.AspNetCore.Http.HttpResults;

namespace CloudScale.Notification.Notifications;

/// <summary>A user's notifications: the list, the unread count, marking read, and the live stream.</summary>
internal static class NotificationsApi
{
    public const int DefaultLimit = 20;
    public const int MaxLimit = 100;

    public static RouteGroupBuilder MapNotificationsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/users/{userId}/notifications").WithTags("Notifications");
        api.MapGet("", ListAsync);
        api.MapGet("/unread-count", GetUnreadCountAsync);
        api.MapPost("/{id}/read", MarkReadAsync);
        api.MapGet("/stream", Stream);
        return api;
    }

    /// <summary>Newest first, in keyset order (created at, id); <c>nextCursor</c> is null on the last page.</summary>
    public static async Task<Results<Ok<NotificationPage>, ValidationProblem>> ListAsync(
        string userId, int? limit, string? cursor, NotificationStore store, CancellationToken cancellationToken)
    {
        var after = cursor is null ? null : KeysetCursor.Decode(cursor);
        var errors = new RequestErrors()
            .WhenNotAUserId(userId)
            .When(limit is < 1 or > MaxLimit, "limit", $"The page size must be between 1 and {MaxLimit}.")
            .When(cursor is not null && after is null, "cursor", "The cursor is not one this service issued; pass nextCursor back unchanged.");
        return errors.IsEmpty
            ? TypedResults.Ok(await store.ListAsync(userId, after, limit ?? DefaultLimit, cancellationToken))
            : errors.ToProblem();
    }

    public static async Task<Results<Ok<UnreadCount>, ValidationProblem>> GetUnreadCountAsync(
        string userId, UnreadCounter unread, CancellationToken cancellationToken)
    {
        var errors = new RequestErrors().WhenNotAUserId(userId);
        return errors.IsEmpty ? TypedResults.Ok(new UnreadCount(userId, await unread.GetAsync(userId, cancellationToken))) : errors.ToProblem();
    }

    /// <summary>Idempotent: marking a read notification again changes nothing and answers the same.</summary>
    public static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> MarkReadAsync(
        string userId, string id, NotificationStore store, UnreadCounter unread, CancellationToken cancellationToken)
    {
        var errors = new RequestErrors()
            .WhenNotAUserId(userId)
            .When(!Guid.TryParse(id, out var notificationId), "id", "The notification id must be a UUID.");
        if (!errors.IsEmpty)
        {
            return errors.ToProblem();
        }

        switch (await store.MarkReadAsync(userId, notificationId, cancellationToken))
        {
            case MarkReadOutcome.NotFound:
                return Problems.NotificationNotFound(userId, notificationId);
            case MarkReadOutcome.Marked:
                await unread.DecrementAsync(userId);
                break;
        }

        return TypedResults.NoContent();
    }

    /// <summary>Server-sent events: each new notification as <c>event: notification</c>; <c>Last-Event-ID</c> replays what was missed.</summary>
    public static Results<NotificationStream, ValidationProblem> Stream(string userId, [Microsoft.AspNetCore.Mvc.FromHeader(Name = "Last-Event-ID")] string? lastEventId)
    {
        var errors = new RequestErrors().WhenNotAUserId(userId);
        // An id that is not one of ours (or none) replays nothing: the stream is live from now on, as for a new client.
        return errors.IsEmpty
            ? new NotificationStream(userId, Guid.TryParse(lastEventId, out var lastSeenId) ? lastSeenId : null)
            : errors.ToProblem();
    }
}
