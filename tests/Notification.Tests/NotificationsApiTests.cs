using System.Net;
using CloudScale.Notification.Notifications;

namespace CloudScale.Notification.Tests;

public sealed class NotificationsApiTests(NotificationServiceFixture notification) : IClassFixture<NotificationServiceFixture>
{
    private readonly HttpClient _client = notification.Client;

    [Fact]
    public async Task Keyset_paging_walks_every_notification_newest_first_exactly_once()
    {
        var user = NotificationClient.NewUser();
        var created = new List<Guid>();
        for (var i = 0; i < 7; i++)
        {
            created.Add((await _client.CreateNotificationAsync(user)).Id);
        }

        var walked = new List<UserNotification>();
        var pages = 0;
        string? cursor = null;
        do
        {
            var page = await _client.ListAsync(user, cursor is null ? "?limit=3" : $"?limit=3&cursor={cursor}");
            Assert.InRange(page.Items.Count, 1, 3);
            walked.AddRange(page.Items);
            cursor = page.NextCursor;
            pages++;
        }
        while (cursor is not null);

        Assert.Equal(3, pages);
        Assert.Equal(Enumerable.Reverse(created), walked.Select(item => item.Id));
        Assert.Equal(walked.OrderByDescending(item => item.CreatedAt).Select(item => item.Id), walked.Select(item => item.Id));
        Assert.Equal(walked, (await _client.ListAsync(user, "?limit=100")).Items);
    }

    [Fact]
    public async Task Marking_as_read_is_idempotent_and_decrements_the_count_once()
    {
        var user = NotificationClient.NewUser();
        var first = await _client.CreateNotificationAsync(user);
        await _client.CreateNotificationAsync(user);
        Assert.Equal(2, await _client.UnreadAsync(user));

        var marks = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => _client.MarkReadAsync(user, first.Id)));
        using var again = await _client.MarkReadAsync(user, first.Id);

        Assert.All(marks.Append(again), response => Assert.Equal(HttpStatusCode.NoContent, response.StatusCode));
        Assert.Equal(1, await _client.UnreadAsync(user));
        Assert.Equal(1L, (long)await notification.Redis.StringGetAsync(UnreadCounter.Key(user)));
        var listed = (await _client.ListAsync(user)).Items.Single(item => item.Id == first.Id);
        Assert.NotNull(listed.ReadAt);
    }

    [Fact]
    public async Task A_notification_of_another_user_cannot_be_marked_read()
    {
        var owner = NotificationClient.NewUser();
        var stored = await _client.CreateNotificationAsync(owner);

        using var response = await _client.MarkReadAsync(NotificationClient.NewUser(), stored.Id);

        var problem = await response.ReadProblemAsync(HttpStatusCode.NotFound);
        Assert.Equal("https://cloudscale.dev/problems/notification-not-found", problem.GetProperty("type").GetString());
        Assert.Equal(1, await _client.UnreadAsync(owner));
    }

    [Fact]
    public async Task The_unread_count_is_rebuilt_from_postgres_when_the_redis_key_is_missing()
    {
        var user = NotificationClient.NewUser();
        for (var i = 0; i < 3; i++)
        {
            await _client.CreateNotificationAsync(user);
        }

        Assert.Equal(3, await _client.UnreadAsync(user));
        var key = UnreadCounter.Key(user);
        Assert.True(await notification.Redis.KeyDeleteAsync(key));

        Assert.Equal(3, await _client.UnreadAsync(user));
        Assert.Equal(3L, (long)await notification.Redis.StringGetAsync(key));
        Assert.InRange(await notification.Redis.KeyTimeToLiveAsync(key) ?? TimeSpan.Zero, TimeSpan.FromMinutes(9), TimeSpan.FromMinutes(10));
    }

    [Theory]
    [InlineData("GET", "/users/{long}/notifications", "userId")]
    [InlineData("GET", "/users/%20/notifications/unread-count", "userId")]
    [InlineData("GET", "/users/alice/notifications?limit=0", "limit")]
    [InlineData("GET", "/users/alice/notifications?limit=101", "limit")]
    [InlineData("GET", "/users/alice/notifications?cursor=not*base64url", "cursor")]
    [InlineData("GET", "/users/alice/notifications?cursor=Zm9vfmJhcg", "cursor")]
    [InlineData("POST", "/users/alice/notifications/42/read", "id")]
    [InlineData("GET", "/users/{long}/notifications/stream", "userId")]
    public async Task Bad_input_is_answered_with_a_validation_problem_for_the_parameter(string method, string path, string parameter)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path.Replace("{long}", new string('u', 101), StringComparison.Ordinal));
        using var response = await _client.SendAsync(request, TestContext.Current.CancellationToken);

        var problem = await response.ReadProblemAsync(HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty(parameter, out _), problem.ToString());
    }

    [Fact]
    public async Task A_limit_that_is_not_a_number_is_a_bad_request()
    {
        using var response = await _client.GetAsync("/users/alice/notifications?limit=many", TestContext.Current.CancellationToken);

        await response.ReadProblemAsync(HttpStatusCode.BadRequest);
    }
}
