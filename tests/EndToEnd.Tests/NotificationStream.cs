using System.Net;
using System.Text.Json;

namespace CloudScale.EndToEnd.Tests;

/// <summary>A customer's live notification stream (server-sent events), read as it arrives.</summary>
internal sealed class NotificationStream : IAsyncDisposable
{
    private readonly HttpResponseMessage _response;
    private readonly StreamReader _reader;

    private NotificationStream(HttpResponseMessage response, Stream body)
    {
        _response = response;
        _reader = new StreamReader(body);
    }

    public static async Task<NotificationStream> OpenAsync(HttpClient notification, string customerId)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/users/{customerId}/notifications/stream");
        request.Headers.Accept.ParseAdd("text/event-stream");
        var response = await notification.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return new NotificationStream(response, await response.Content.ReadAsStreamAsync(TestContext.Current.CancellationToken));
    }

    /// <summary>The first pushed notification whose body mentions <paramref name="orderId"/>; fails at the deadline.</summary>
    public async Task<JsonElement> NextAboutAsync(Guid orderId, TimeSpan deadline)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(deadline);
        while (await _reader.ReadLineAsync(timeout.Token) is { } line)
        {
            if (line.StartsWith("data:", StringComparison.Ordinal)
                && JsonDocument.Parse(line["data:".Length..]).RootElement is var notification
                && notification.GetProperty("body").GetString()!.Contains(orderId.ToString(), StringComparison.Ordinal))
            {
                return notification;
            }
        }

        throw new InvalidOperationException("The notification stream ended.");
    }

    public ValueTask DisposeAsync()
    {
        _reader.Dispose();
        _response.Dispose();
        return ValueTask.CompletedTask;
    }
}
