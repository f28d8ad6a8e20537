using CloudScale.ServiceDefaults.Paging;
using Npgsql;

namespace CloudScale.Notification.Notifications;

/// <summary>Notifications in Postgres, the truth for everything Redis only caches or relays. README.md lists the index each query uses.</summary>
internal sealed class NotificationStore(NpgsqlDataSource dataSource)
{
    private const string Columns = "id, user_id, kind, title, body, created_at, read_at";

    /// <summary>
    /// Stores the notification for integration event <paramref name="eventId"/>; null when that event already has one.
    /// Concurrent deliveries of one event queue on the unique index and exactly one of them gets the row.
    /// </summary>
    public async Task<UserNotification?> AddOnceAsync(string eventId, NewNotification notification, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"""
            INSERT INTO notifications (id, user_id, event_id, kind, title, body)
            VALUES (@id, @userId, @eventId, @kind, @title, @body)
            ON CONFLICT (event_id) DO NOTHING
            RETURNING {Columns}
            """);
        // Version 7 ids are time-ordered, so new rows land at the right edge of the primary key instead of all over it.
        command.Parameters.AddWithValue("id", Guid.CreateVersion7());
        command.Parameters.AddWithValue("userId", notification.UserId);
        command.Parameters.AddWithValue("eventId", eventId);
        command.Parameters.AddWithValue("kind", notification.Kind);
        command.Parameters.AddWithValue("title", notification.Title);
        command.Parameters.AddWithValue("body", notification.Body);
        return (await ReadAllAsync(command, cancellationToken)).SingleOrDefault();
    }

    /// <summary>One page of the user's notifications, newest first (created at, id descending), after <paramref name="after"/>.</summary>
    public async Task<NotificationPage> ListAsync(string userId, KeysetCursor? after, int pageSize, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(after is null
            ? $"SELECT {Columns} FROM notifications WHERE user_id = @userId ORDER BY created_at DESC, id DESC LIMIT @take"
            : $"""
              SELECT {Columns} FROM notifications
              WHERE user_id = @userId AND (created_at, id) < (@afterCreatedAt, @afterId)
              ORDER BY created_at DESC, id DESC LIMIT @take
              """);
        command.Parameters.AddWithValue("userId", userId);
        if (after is { } cursor)
        {
            command.Parameters.AddWithValue("afterCreatedAt", cursor.CreatedAt);
            command.Parameters.AddWithValue("afterId", cursor.Id);
        }

        // One row beyond the page says whether another page follows, without a COUNT.
        command.Parameters.AddWithValue("take", pageSize + 1);
        var notifications = await ReadAllAsync(command, cancellationToken);
        if (notifications.Count <= pageSize)
        {
            return new NotificationPage(notifications, NextCursor: null);
        }

        var last = notifications[pageSize - 1];
        return new NotificationPage(notifications[..pageSize], new KeysetCursor(last.CreatedAt, last.Id).Encode());
    }

    /// <summary>
    /// Up to <paramref name="limit"/> of the user's notifications created after <paramref name="lastSeenId"/>, oldest first:
    /// what a stream missed. Empty when the user has no notification <paramref name="lastSeenId"/>.
    /// </summary>
    public async Task<List<UserNotification>> ListSinceAsync(string userId, Guid lastSeenId, int limit, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"""
            SELECT {Columns} FROM notifications
            WHERE user_id = @userId
              AND (created_at, id) > (SELECT created_at, id FROM notifications WHERE id = @lastSeenId AND user_id = @userId)
            ORDER BY created_at, id LIMIT @limit
            """);
        command.Parameters.AddWithValue("userId", userId);
        command.Parameters.AddWithValue("lastSeenId", lastSeenId);
        command.Parameters.AddWithValue("limit", limit);
        return await ReadAllAsync(command, cancellationToken);
    }

    /// <summary>
    /// Marks the notification read unless it already is. Concurrent calls queue on the row lock and only the first one
    /// reports <see cref="MarkReadOutcome.Marked"/>, so the unread count goes down once.
    /// </summary>
    public async Task<MarkReadOutcome> MarkReadAsync(string userId, Guid id, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            WITH marked AS (
                UPDATE notifications SET read_at = now()
                WHERE id = @id AND user_id = @userId AND read_at IS NULL
                RETURNING id
            )
            SELECT EXISTS (SELECT 1 FROM marked), EXISTS (SELECT 1 FROM notifications WHERE id = @id AND user_id = @userId)
            """);
        command.Parameters.AddWithValue("id", id);
        command.Parameters.AddWithValue("userId", userId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return reader.GetBoolean(0) ? MarkReadOutcome.Marked
            : reader.GetBoolean(1) ? MarkReadOutcome.AlreadyRead
            : MarkReadOutcome.NotFound;
    }

    public async Task<long> CountUnreadAsync(string userId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT count(*) FROM notifications WHERE user_id = @userId AND read_at IS NULL");
        command.Parameters.AddWithValue("userId", userId);
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    private static async Task<List<UserNotification>> ReadAllAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var notifications = new List<UserNotification>();
        while (await reader.ReadAsync(cancellationToken))
        {
            notifications.Add(new UserNotification(
                reader.GetGuid(0),
                reader.GetString(1),
                reader.GetString(2),
                reader.GetString(3),
                reader.GetString(4),
                reader.GetFieldValue<DateTimeOffset>(5),
                reader.IsDBNull(6) ? null : reader.GetFieldValue<DateTimeOffset>(6)));
        }

        return notifications;
    }
}

internal enum MarkReadOutcome
{
    Marked,
    AlreadyRead,
    NotFound,
}
