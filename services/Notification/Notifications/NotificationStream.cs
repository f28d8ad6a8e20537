using System.Reflection;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace CloudScale.Notification.Notifications;

/// <summary>
/// A user's notifications as server-sent events: first those created after <c>Last-Event-ID</c> (oldest first, from
/// Postgres), then each new one as any replica publishes it, until the client leaves or the host stops. Every event has
/// the notification's id as its SSE id, so a reconnecting client resumes where it stopped; a comment goes out whenever
/// the stream has been silent for <see cref="NotificationOptions.StreamHeartbeatInterval"/>.
/// </summary>
internal sealed class NotificationStream(string userId, Guid? lastSeenId) : IResult, IEndpointMetadataProvider
{
    private const int ReplayPageSize = 100;

    // How far a slow client may fall behind the live notifications. Beyond it the stream ends rather than hold more in
    // memory; the client reconnects with Last-Event-ID and catches up from Postgres.
    private const int LiveBacklog = 256;

    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder)
    {
        builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status200OK, typeof(UserNotification), ["text/event-stream"]));
        // A stream lasts as long as its client stays: counted against ServiceDefaults' concurrent requests, a few hundred
        // open streams would leave nothing for the other requests.
        builder.Metadata.Add(new DisableRateLimitingAttribute());
    }

    public async Task ExecuteAsync(HttpContext context)
    {
        var services = context.RequestServices;
        var store = services.GetRequiredService<NotificationStore>();
        var broadcast = services.GetRequiredService<NotificationBroadcast>();
        var heartbeatInterval = services.GetRequiredService<IOptions<NotificationOptions>>().Value.StreamHeartbeatInterval;
        // Streams end as the host stops, instead of holding its graceful shutdown up for the whole drain timeout.
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(
            context.RequestAborted, services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping);
        var cancellationToken = stopping.Token;

        var live = Channel.CreateBounded<UserNotification>(new BoundedChannelOptions(LiveBacklog) { SingleReader = true, SingleWriter = true });
        // Subscribed before the headers go out, and before the replay reads Postgres: a client that has the headers
        // misses nothing, and a notification both replayed and published is sent once (see `replayed`).
        await using var subscription = await broadcast.SubscribeAsync(
            userId,
            notification =>
            {
                if (!live.Writer.TryWrite(notification))
                {
                    live.Writer.TryComplete();
                }
            });

        var response = context.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        context.Features.GetRequiredFeature<IHttpResponseBodyFeature>().DisableBuffering();
        try
        {
            await SendAsync(response, ": connected\n\n", cancellationToken);
            var replayed = new HashSet<Guid>();
            if (lastSeenId is { } after)
            {
                await foreach (var notification in ReplayAsync(store, after, cancellationToken))
                {
                    await SendAsync(response, notification, cancellationToken);
                    replayed.Add(notification.Id);
                }
            }

            await SendLiveAsync(response, live.Reader, replayed, heartbeatInterval, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The client left or the host is stopping: the stream is over, nothing to answer.
        }
    }

    private async IAsyncEnumerable<UserNotification> ReplayAsync(
        NotificationStore store, Guid after, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        while (true)
        {
            var page = await store.ListSinceAsync(userId, after, ReplayPageSize, cancellationToken);
            foreach (var notification in page)
            {
                yield return notification;
            }

            if (page.Count < ReplayPageSize)
            {
                yield break;
            }

            after = page[^1].Id;
        }
    }

    /// <summary>Sends each published notification not already replayed, and a heartbeat whenever idle, until the live feed closes.</summary>
    private static async Task SendLiveAsync(
        HttpResponse response, ChannelReader<UserNotification> live, HashSet<Guid> replayed, TimeSpan heartbeatInterval, CancellationToken cancellationToken)
    {
        while (await WaitForLiveAsync(live, heartbeatInterval, cancellationToken) is var waited && waited != LiveWait.Closed)
        {
            if (waited == LiveWait.Idle)
            {
                await SendAsync(response, ": heartbeat\n\n", cancellationToken);
            }

            while (live.TryRead(out var notification))
            {
                if (!replayed.Remove(notification.Id))
                {
                    await SendAsync(response, notification, cancellationToken);
                }
            }
        }
    }

    private static async Task<LiveWait> WaitForLiveAsync(ChannelReader<UserNotification> live, TimeSpan heartbeatInterval, CancellationToken cancellationToken)
    {
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        idle.CancelAfter(heartbeatInterval);
        try
        {
            return await live.WaitToReadAsync(idle.Token) ? LiveWait.Ready : LiveWait.Closed;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return LiveWait.Idle;
        }
    }

    private static Task SendAsync(HttpResponse response, UserNotification notification, CancellationToken cancellationToken) =>
        SendAsync(response, $"id: {notification.Id}\nevent: notification\ndata: {JsonSerializer.Serialize(notification, JsonSerializerOptions.Web)}\n\n", cancellationToken);

    private static async Task SendAsync(HttpResponse response, string text, CancellationToken cancellationToken)
    {
        await response.WriteAsync(text, cancellationToken);
        await response.Body.FlushAsync(cancellationToken);
    }

    private enum LiveWait
    {
        Ready,
        Idle,

        /// <summary>The client fell more than the backlog behind; it catches up by reconnecting.</summary>
        Closed,
    }
}
