using System.Collections.Concurrent;
using CloudScale.Testing;

namespace CloudScale.Redis.Tests;

public sealed class PubSubTests(TestServers servers) : RedisTestBase(servers)
{
    [Fact]
    public async Task Subscribe_receives_published_messages_in_order_and_binary_safe()
    {
        var channel = RedisChannel.Literal(Key("events"));
        var received = new ConcurrentQueue<(string Channel, byte[] Message)>();
        var subscriber = Redis.GetSubscriber();
        await subscriber.SubscribeAsync(channel, (from, message) => received.Enqueue((from.Name, message.ToArray()!)), Cancellation);

        Assert.Equal(1, await subscriber.PublishAsync(channel, "first", Cancellation));
        await subscriber.PublishAsync(channel, new byte[] { 0, 13, 10, 255 }, Cancellation);
        await Poll.UntilAsync(() => received.Count == 2, Deadline);

        Assert.Equal($"{channel.Name},{channel.Name}", Show.Texts(received.Select(message => message.Channel)));
        Assert.Equal("first"u8.ToArray(), received.First().Message);
        Assert.Equal(new byte[] { 0, 13, 10, 255 }, received.Last().Message);
    }

    [Fact]
    public async Task Psubscribe_receives_messages_of_matching_channels_with_the_actual_channel()
    {
        var prefix = Key("orders");
        var received = new ConcurrentQueue<string>();
        var subscriber = Redis.GetSubscriber();
        await subscriber.SubscribeAsync(RedisChannel.Pattern($"{prefix}.*"), (from, message) => received.Enqueue($"{from.Name}={message}"), Cancellation);

        await subscriber.PublishAsync(RedisChannel.Literal($"{prefix}.created"), "1", Cancellation);
        await subscriber.PublishAsync(RedisChannel.Literal($"other.{prefix}"), "ignored", Cancellation);
        await subscriber.PublishAsync(RedisChannel.Literal($"{prefix}.paid"), "2", Cancellation);
        await Poll.UntilAsync(() => received.Count == 2, Deadline);

        Assert.Equal($"{prefix}.created=1,{prefix}.paid=2", Show.Texts(received));
    }

    [Fact]
    public async Task Unsubscribe_stops_delivery_and_a_throwing_handler_does_not_stop_others()
    {
        var channel = RedisChannel.Literal(Key("unsub"));
        var delivered = 0;
        var subscriber = Redis.GetSubscriber();
        await subscriber.SubscribeAsync(channel, (_, _) => throw new InvalidOperationException("handler bug"), Cancellation);
        await subscriber.SubscribeAsync(channel, (_, _) => Interlocked.Increment(ref delivered), Cancellation);

        await subscriber.PublishAsync(channel, "x", Cancellation);
        await Poll.UntilAsync(() => Volatile.Read(ref delivered) == 1, Deadline);
        await subscriber.UnsubscribeAsync(channel, cancellationToken: Cancellation);

        Assert.Equal(0, await subscriber.PublishAsync(channel, "y", Cancellation));
        Assert.Equal(1, Volatile.Read(ref delivered));
    }
}
