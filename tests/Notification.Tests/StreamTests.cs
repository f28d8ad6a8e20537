namespace CloudScale.Notification.Tests;

public sealed class StreamTests(NotificationServiceFixture notification) : IClassFixture<NotificationServiceFixture>
{
    private readonly HttpClient _client = notification.Client;

    [Fact]
    public async Task A_connected_stream_receives_a_notification_created_after_connecting()
    {
        var user = NotificationClient.NewUser();
        await using var stream = await EventStream.OpenAsync(_client, user);

        await _client.DeliverAsync(NotificationClient.Cancelled(user, reason: "the hold expired")).AssertDaprStatusAsync("SUCCESS");

        var (id, received) = await stream.NextNotificationAsync();
        var stored = Assert.Single((await _client.ListAsync(user)).Items);
        Assert.Equal(stored, received);
        Assert.Equal(stored.Id.ToString(), id);
    }

    [Fact]
    public async Task Open_streams_do_not_count_against_the_concurrent_requests_a_replica_serves()
    {
        await using var replica = await NotificationService.StartAsync(notification.Database, notification.RedisConnectionString, settings:
            new Dictionary<string, string?>(StringComparer.Ordinal) { ["ServiceDefaults:MaxConcurrentRequests"] = "1", ["ServiceDefaults:RequestQueueLimit"] = "0" });
        await using var first = await EventStream.OpenAsync(replica.Client, NotificationClient.NewUser());
        await using var second = await EventStream.OpenAsync(replica.Client, NotificationClient.NewUser());

        Assert.Empty((await replica.Client.ListAsync(NotificationClient.NewUser())).Items);
    }

    [Fact]
    public async Task A_stream_gets_only_its_own_users_notifications()
    {
        var user = NotificationClient.NewUser();
        await using var stream = await EventStream.OpenAsync(_client, user);

        await _client.CreateNotificationAsync(NotificationClient.NewUser());
        var own = await _client.CreateNotificationAsync(user);

        Assert.Equal(own.Id, (await stream.NextNotificationAsync()).Notification.Id);
    }

    [Fact]
    public async Task Last_event_id_replays_the_notifications_missed_since_then_and_the_stream_goes_on_live()
    {
        var user = NotificationClient.NewUser();
        string lastSeen;
        await using (var first = await EventStream.OpenAsync(_client, user))
        {
            await _client.CreateNotificationAsync(user);
            lastSeen = (await first.NextNotificationAsync()).Id;
        }

        var missed = new[] { await _client.CreateNotificationAsync(user), await _client.CreateNotificationAsync(user) };
        await using var resumed = await EventStream.OpenAsync(_client, user, lastEventId: lastSeen);

        Assert.Equal(missed[0], (await resumed.NextNotificationAsync()).Notification);
        Assert.Equal(missed[1], (await resumed.NextNotificationAsync()).Notification);
        var live = await _client.CreateNotificationAsync(user);
        Assert.Equal(live, (await resumed.NextNotificationAsync()).Notification);
    }

    [Fact]
    public async Task An_idle_stream_sends_heartbeat_comments()
    {
        await using var stream = await EventStream.OpenAsync(_client, NotificationClient.NewUser());

        Assert.Equal(["connected"], (await stream.NextAsync()).Comments);
        var heartbeat = await stream.NextAsync();

        Assert.Equal(["heartbeat"], heartbeat.Comments);
        Assert.Equal((null, null), (heartbeat.Id, heartbeat.Data));
    }

    [Fact]
    public async Task A_notification_stored_by_one_replica_reaches_a_stream_on_another()
    {
        var user = NotificationClient.NewUser();
        await using var replica = await notification.StartReplicaAsync();
        await using var stream = await EventStream.OpenAsync(replica.Client, user);

        var stored = await _client.CreateNotificationAsync(user);

        Assert.Equal(stored, (await stream.NextNotificationAsync()).Notification);
    }
}
