using System.Net;
using System.Text.Json;
using CloudScale.Notification.Notifications;

namespace CloudScale.Notification.Tests;

/// <summary>One block of a server-sent event stream: its id, event type and data, or only comments.</summary>
internal sealed record ServerSentEvent(string? Id, string? Type, string? Data, IReadOnlyList<string> Comments);

/// <summary>A client of GET /users/{userId}/notifications/stream that parses the stream as it arrives.</summary>
internal sealed class EventStream : IAsyncDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);
    private readonly HttpResponseMessage _response;
    private readonly StreamReader _reader;

    private EventStream(HttpResponseMessage response, Stream body)
    {
        _response = response;
        _reader = new StreamReader(body);
    }

    /// <summary>Connects and waits for the headers: from then on the service relays every new notification of the user.</summary>
    public static async Task<EventStream> OpenAsync(HttpClient client, string userId, string? lastEventId = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/users/{userId}/notifications/stream");
        request.Headers.Accept.ParseAdd("text/event-stream");
        if (lastEventId is not null)
        {
            request.Headers.Add("Last-Event-ID", lastEventId);
        }

        var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        return new EventStream(response, await response.Content.ReadAsStreamAsync(TestContext.Current.CancellationToken));
    }

    /// <summary>The next notification event, skipping comments; fails when none arrives within the deadline.</summary>
    public async Task<(string Id, UserNotification Notification)> NextNotificationAsync()
    {
        while (true)
        {
            var block = await NextAsync();
            if (block.Data is not null)
            {
                Assert.Equal("notification", block.Type);
                return (block.Id!, JsonSerializer.Deserialize<UserNotification>(block.Data, JsonSerializerOptions.Web)!);
            }
        }
    }

    /// <summary>The next block, whatever it holds; fails when none completes within the deadline.</summary>
    public async Task<ServerSentEvent> NextAsync()
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        deadline.CancelAfter(Deadline);
        string? id = null, type = null, data = null;
        var comments = new List<string>();
        try
        {
            while (await _reader.ReadLineAsync(deadline.Token) is { } line)
            {
                if (line.Length == 0)
                {
                    if (id is not null || type is not null || data is not null || comments.Count > 0)
                    {
                        return new ServerSentEvent(id, type, data, comments);
                    }

                    continue;
                }

                var (field, value) = line.IndexOf(':', StringComparison.Ordinal) is var colon and >= 0
                    ? (line[..colon], line[(colon + 1)..].TrimStart(' '))
                    : (line, "");
                switch (field)
                {
                    case "":
                        comments.Add(value);
                        break;
                    case "id":
                        id = value;
                        break;
                    case "event":
                        type = value;
                        break;
                    case "data":
                        data = data is null ? value : data + "\n" + value;
                        break;
                }
            }
        }
        catch (OperationCanceledException exception) when (!TestContext.Current.CancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"No complete event within {Deadline.TotalSeconds} s.", exception);
        }

        throw new InvalidOperationException("The service ended the stream.");
    }

    public ValueTask DisposeAsync()
    {
        _reader.Dispose();
        _response.Dispose();
        return ValueTask.CompletedTask;
    }
}
