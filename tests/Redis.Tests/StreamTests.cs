using System.Diagnostics;
using CloudScale.Testing;

namespace CloudScale.Redis.Tests;

public sealed class StreamTests(TestServers servers) : RedisTestBase(servers)
{
    [Fact]
    public async Task Xadd_trims_with_maxlen_and_minid_and_xlen_counts()
    {
        var key = Key("stream");
        for (var index = 0; index < 20; index++)
        {
            await Db.StreamAddAsync(key, [new NameValueEntry("n", index)], trim: StreamTrim.MaxLength(5, approximate: false), cancellationToken: Cancellation);
        }

        Assert.Equal(5, await Db.StreamLengthAsync(key, Cancellation));

        var id = await Db.StreamAddAsync(key, [new NameValueEntry("n", "approx")], trim: StreamTrim.MaxLength(1), cancellationToken: Cancellation);
        Assert.Contains('-', id.ToString());
        Assert.InRange(await Db.StreamLengthAsync(key, Cancellation), 1, 6);

        await Db.StreamAddAsync(key, [new NameValueEntry("n", "last")], "99999999999999-0", StreamTrim.MinId("99999999999999-0", approximate: false), Cancellation);
        Assert.Equal(1, await Db.StreamLengthAsync(key, Cancellation));
    }

    [Fact]
    public async Task Consumer_group_read_ack_and_pending()
    {
        var key = Key("orders");
        Assert.True(await Db.StreamCreateConsumerGroupAsync(key, "workers", "0", cancellationToken: Cancellation));
        Assert.False(await Db.StreamCreateConsumerGroupAsync(key, "workers", "0", cancellationToken: Cancellation));
        var first = await Db.StreamAddAsync(key, [new NameValueEntry("order", "1"), new NameValueEntry("total", 10)], cancellationToken: Cancellation);
        var second = await Db.StreamAddAsync(key, [new NameValueEntry("order", "2")], cancellationToken: Cancellation);

        var read = await Db.StreamReadGroupAsync(key, "workers", "alice", count: 10, cancellationToken: Cancellation);

        Assert.Equal([first, second], read.Select(entry => entry.Id));
        Assert.Equal("10", read[0]["total"].ToString());
        var summary = await Db.StreamPendingAsync(key, "workers", Cancellation);
        Assert.Equal(2, summary.PendingMessageCount);
        Assert.Equal(first, summary.LowestPendingMessageId);
        Assert.Equal(second, summary.HighestPendingMessageId);
        Assert.Equal(new StreamConsumer("alice", 2), Assert.Single(summary.Consumers));

        var pending = await Db.StreamPendingMessagesAsync(key, "workers", 10, "alice", cancellationToken: Cancellation);
        Assert.Equal([first, second], pending.Select(message => message.MessageId));
        Assert.All(pending, message => Assert.Equal(1, message.DeliveryCount));

        Assert.Equal(1, await Db.StreamAcknowledgeAsync(key, "workers", [first], Cancellation));
        Assert.Equal(1, (await Db.StreamPendingAsync(key, "workers", Cancellation)).PendingMessageCount);
    }

    [Fact]
    public async Task Xclaim_and_xautoclaim_move_pending_entries_to_another_consumer()
    {
        var key = Key("claims");
        await Db.StreamCreateConsumerGroupAsync(key, "g", "0", cancellationToken: Cancellation);
        var ids = new List<RedisValue>();
        for (var index = 0; index < 3; index++)
        {
            ids.Add(await Db.StreamAddAsync(key, [new NameValueEntry("n", index)], cancellationToken: Cancellation));
        }

        await Db.StreamReadGroupAsync(key, "g", "crashed", cancellationToken: Cancellation);

        var claimed = await Db.StreamClaimAsync(key, "g", "bob", TimeSpan.Zero, [ids[0]], Cancellation);
        Assert.Equal(ids[0], Assert.Single(claimed).Id);

        var auto = await Db.StreamAutoClaimAsync(key, "g", "carol", TimeSpan.Zero, "0-0", count: 10, cancellationToken: Cancellation);
        Assert.Equal(ids, auto.ClaimedEntries.Select(entry => entry.Id));
        Assert.Equal("0-0", auto.NextStartId.ToString());
        Assert.Empty(auto.DeletedIds);
        var owners = await Db.StreamPendingMessagesAsync(key, "g", 10, cancellationToken: Cancellation);
        Assert.All(owners, message => Assert.Equal("carol", message.ConsumerName.ToString()));
    }

    [Fact]
    public async Task Xautoclaim_reports_the_ids_of_entries_deleted_while_pending()
    {
        var key = Key("deleted");
        await Db.StreamCreateConsumerGroupAsync(key, "g", "0", cancellationToken: Cancellation);
        var kept = await Db.StreamAddAsync(key, [new NameValueEntry("n", 1)], cancellationToken: Cancellation);
        var deleted = await Db.StreamAddAsync(key, [new NameValueEntry("n", 2)], cancellationToken: Cancellation);
        await Db.StreamReadGroupAsync(key, "g", "crashed", cancellationToken: Cancellation);
        Assert.Equal(1, (long)await Db.ExecuteAsync("XDEL", [key, deleted], Cancellation));

        var auto = await Db.StreamAutoClaimAsync(key, "g", "rescuer", TimeSpan.Zero, "0-0", cancellationToken: Cancellation);

        Assert.Equal(kept, Assert.Single(auto.ClaimedEntries).Id);
        Assert.Equal(deleted, Assert.Single(auto.DeletedIds));
    }

    [Fact]
    public async Task Xinfo_stream_and_groups_describe_the_stream()
    {
        var key = Key("info");
        await Db.StreamCreateConsumerGroupAsync(key, "g1", cancellationToken: Cancellation);
        var first = await Db.StreamAddAsync(key, [new NameValueEntry("a", 1)], cancellationToken: Cancellation);
        var last = await Db.StreamAddAsync(key, [new NameValueEntry("b", 2)], cancellationToken: Cancellation);
        await Db.StreamReadGroupAsync(key, "g1", "c", count: 1, cancellationToken: Cancellation);

        var info = await Db.StreamInfoAsync(key, Cancellation);
        var groups = await Db.StreamGroupInfoAsync(key, Cancellation);

        Assert.Equal(2, info.Length);
        Assert.Equal(1, info.ConsumerGroupCount);
        Assert.Equal(last, info.LastGeneratedId);
        Assert.Equal(first, info.FirstEntry?.Id);
        Assert.Equal("2", info.LastEntry?["b"].ToString());
        var group = Assert.Single(groups);
        Assert.Equal(("g1", 1L, 1L), (group.Name.ToString(), group.ConsumerCount, group.PendingMessageCount));
        Assert.Equal(first, group.LastDeliveredId);
        Assert.Equal(1, group.Lag);
    }

    [Fact]
    public async Task Blocking_xreadgroup_waits_on_its_own_connection_and_returns_the_entry_added_meanwhile()
    {
        var key = Key("blocking");
        await Db.StreamCreateConsumerGroupAsync(key, "g", cancellationToken: Cancellation);

        var blocked = Db.StreamReadGroupAsync(key, "g", "waiter", block: TimeSpan.FromSeconds(5), cancellationToken: Cancellation);
        var pingWhileBlocked = Stopwatch.StartNew();
        await Db.PingAsync(Cancellation);
        pingWhileBlocked.Stop();
        await Poll.UntilAsync(async () => ((string)(await Db.ExecuteAsync("CLIENT", ["LIST"], Cancellation))!).Contains("cmd=xreadgroup", StringComparison.Ordinal), Deadline);
        var id = await Db.StreamAddAsync(key, [new NameValueEntry("wake", "up")], cancellationToken: Cancellation);

        Assert.Equal(id, Assert.Single(await blocked).Id);
        Assert.True(pingWhileBlocked.Elapsed < TimeSpan.FromSeconds(2), $"PING took {pingWhileBlocked.Elapsed} while XREADGROUP blocked");
    }

    [Fact]
    public async Task Blocking_xreadgroup_returns_nothing_when_the_block_expires_and_can_be_cancelled()
    {
        var key = Key("empty");
        await Db.StreamCreateConsumerGroupAsync(key, "g", cancellationToken: Cancellation);

        Assert.Empty(await Db.StreamReadGroupAsync(key, "g", "c", block: TimeSpan.FromMilliseconds(100), cancellationToken: Cancellation));

        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Cancellation);
        var blocked = Db.StreamReadGroupAsync(key, "g", "c", block: TimeSpan.FromSeconds(30), cancellationToken: cancel.Token);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => blocked);
        Assert.Equal(1, await Db.StringIncrementAsync(Key("after"), cancellationToken: Cancellation));
    }
}
