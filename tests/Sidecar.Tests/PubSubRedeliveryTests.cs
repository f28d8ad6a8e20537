using System.Net;
using StackExchange.Redis;
using CloudScale.Testing;

namespace CloudScale.Sidecar.Tests;

/// <summary>
/// Redelivery of what was not acknowledged: a subscriber app that dies mid-handler, a sidecar that is killed, and a
/// sidecar that shuts down gracefully. The component redelivers after a processingTimeout of 2 s, checking every
/// 200 ms, one delivery at a time. Each test runs its own sidecars on its own topic; the app and Redis are shared.
/// </summary>
public sealed class PubSubRedeliveryTests(TestServers servers) : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);
    private readonly string _appId = "redeliver-" + Guid.NewGuid().ToString("N")[..8];
    private readonly List<DaprSidecar> _sidecars = [];
    private string _resourcesPath = null!;
    private SubscriberApp _app = null!;
    private ConnectionMultiplexer _redis = null!;

    private string Topic => "work-" + _appId;

    private IDatabase Redis => _redis.GetDatabase();

    public async ValueTask InitializeAsync()
    {
        var redis = await servers.RedisAsync();
        _redis = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        _app = await SubscriberApp.StartAsync($$"""[{"pubsubname":"pubsub","topic":"{{Topic}}","route":"/work"}]""");
        // processingTimeout as a Go duration, redeliverInterval as milliseconds: the two forms contrib reads.
        _resourcesPath = SidecarResources.Folder(("pubsub.yaml", SidecarResources.RedisPubSub("pubsub", redis.ConnectionString,
            ("processingTimeout", "2s"), ("redeliverInterval", "200"), ("concurrency", "1"))));
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var sidecar in _sidecars)
        {
            await sidecar.DisposeAsync();
        }

        await _app.DisposeAsync();
        await _redis.DisposeAsync();
    }

    [Fact]
    public async Task An_app_killed_mid_handler_gets_the_message_again_after_processingTimeout()
    {
        await StartWithFirstDeliveryHangingAsync("once");

        await _app.KillAsync();
        await _app.RestartAsync();

        await AssertInterruptedDeliveryIsRepeatedAsync(expectedEvents: 1);
    }

    [Fact]
    public async Task A_killed_sidecar_leaves_its_message_pending_for_the_next_sidecar()
    {
        var first = await StartWithFirstDeliveryHangingAsync("once");

        await first.KillAsync();
        Assert.Equal(1, await RedisStreams.PendingAsync(Redis, Topic, _appId));
        await StartSidecarAsync();

        await AssertInterruptedDeliveryIsRepeatedAsync(expectedEvents: 1);
    }

    [Fact]
    public async Task A_graceful_shutdown_acknowledges_nothing_it_did_not_deliver()
    {
        var first = await StartWithFirstDeliveryHangingAsync("one", "two", "three");

        using (var shutdown = await first.Http.PostAsync("/v1.0/shutdown", null, TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.NoContent, shutdown.StatusCode);
        }

        await Poll.UntilAsync(() => !ProcessInfo.IsRunning(first.ProcessId), Deadline, Describe);
        // The one in the handler, and whatever was read behind it, is still pending: nothing was acknowledged.
        Assert.InRange(await RedisStreams.PendingAsync(Redis, Topic, _appId), 1, 3);
        await StartSidecarAsync();

        await AssertInterruptedDeliveryIsRepeatedAsync(expectedEvents: 3);
    }

    /// <summary>Starts a sidecar, publishes <paramref name="texts"/> and returns once the first is hanging in the app's handler.</summary>
    private async Task<DaprSidecar> StartWithFirstDeliveryHangingAsync(params string[] texts)
    {
        // The first delivery hangs until its request is aborted; every later one succeeds.
        _app.Route("/work", async (delivery, aborted) =>
        {
            if (ReferenceEquals(_app.At("/work")[0], delivery))
            {
                await Task.Delay(Timeout.InfiniteTimeSpan, aborted);
            }

            return Reply.Ok;
        });
        var sidecar = await StartSidecarAsync();
        foreach (var text in texts)
        {
            using var response = await sidecar.Http.PostAsync($"/v1.0/publish/pubsub/{Topic}", new StringContent(text), TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        }

        await Poll.UntilAsync(() => _app.At("/work").Count == 1, Deadline, Describe);
        return sidecar;
    }

    /// <summary>Waits until every event has been delivered and acknowledged, and checks that the interrupted one was delivered twice.</summary>
    private async Task AssertInterruptedDeliveryIsRepeatedAsync(int expectedEvents)
    {
        await Poll.UntilAsync(() => _app.At("/work").Select(delivery => delivery.EventId).Distinct(StringComparer.Ordinal).Count() == expectedEvents && _app.At("/work").Count == expectedEvents + 1, Deadline, Describe);
        await Poll.UntilAsync(async () => await RedisStreams.PendingAsync(Redis, Topic, _appId) == 0, Deadline, Describe);
        var interrupted = _app.At("/work")[0];
        Assert.Equal(2, _app.At("/work").Count(delivery => delivery.EventId == interrupted.EventId));
    }

    private async Task<DaprSidecar> StartSidecarAsync()
    {
        var sidecar = await Sidecars.StartAsync(_appId, _resourcesPath, _app.Port);
        _sidecars.Add(sidecar);
        return sidecar;
    }

    private string Describe() =>
        $"deliveries: {_app.Deliveries.Count}\n{string.Join("\n---\n", _sidecars.Select(sidecar => sidecar.Output))}";
}
