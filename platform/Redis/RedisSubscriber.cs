using System.Collections.Concurrent;
using System.Collections.Immutable;
using CloudScale.Redis.Connections;
using Microsoft.Extensions.Logging;

namespace CloudScale.Redis;

public interface ISubscriber
{
    /// <summary>
    /// Subscribes <paramref name="handler"/> to a channel or pattern. Handlers run one at a time on the subscriber
    /// connection's reader, in message order: keep them short or hand the work off.
    /// </summary>
    Task SubscribeAsync(RedisChannel channel, Action<RedisChannel, RedisValue> handler, CancellationToken cancellationToken = default);

    /// <summary>Removes <paramref name="handler"/>, or every handler when null; unsubscribes once none is left.</summary>
    Task UnsubscribeAsync(RedisChannel channel, Action<RedisChannel, RedisValue>? handler = null, CancellationToken cancellationToken = default);

    /// <summary>Publishes a message; returns how many subscribers received it.</summary>
    Task<long> PublishAsync(RedisChannel channel, RedisValue message, CancellationToken cancellationToken = default);
}

/// <summary>Pub/sub over the multiplexer's subscriber connection; subscriptions survive reconnects.</summary>
internal sealed class RedisSubscriber(ConnectionMultiplexer multiplexer, ILogger logger) : ISubscriber, IDisposable
{
    private readonly ConcurrentDictionary<RedisChannel, ImmutableArray<Action<RedisChannel, RedisValue>>> _subscriptions = new();
    private readonly SemaphoreSlim _changes = new(1, 1);

    public async Task SubscribeAsync(RedisChannel channel, Action<RedisChannel, RedisValue> handler, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(handler);
        await multiplexer.EnsureSubscriberConnectedAsync();
        await _changes.WaitAsync(cancellationToken);
        try
        {
            var handlers = _subscriptions.GetValueOrDefault(channel, []);
            _subscriptions[channel] = handlers.Add(handler);
            if (handlers.IsEmpty)
            {
                try
                {
                    await multiplexer.SendToSubscriberAsync(channel.IsPattern ? "PSUBSCRIBE" : "SUBSCRIBE", [channel.Name], cancellationToken);
                }
                catch
                {
                    _subscriptions.TryRemove(channel, out _);
                    throw;
                }
            }
        }
        finally
        {
            _changes.Release();
        }
    }

    public async Task UnsubscribeAsync(RedisChannel channel, Action<RedisChannel, RedisValue>? handler = null, CancellationToken cancellationToken = default)
    {
        await _changes.WaitAsync(cancellationToken);
        try
        {
            if (!_subscriptions.TryGetValue(channel, out var handlers))
            {
                return;
            }

            var remaining = handler is null ? [] : handlers.Remove(handler);
            if (!remaining.IsEmpty)
            {
                _subscriptions[channel] = remaining;
                return;
            }

            _subscriptions.TryRemove(channel, out _);
            await multiplexer.SendToSubscriberAsync(channel.IsPattern ? "PUNSUBSCRIBE" : "UNSUBSCRIBE", [channel.Name], cancellationToken);
        }
        finally
        {
            _changes.Release();
        }
    }

    public async Task<long> PublishAsync(RedisChannel channel, RedisValue message, CancellationToken cancellationToken = default) =>
        (long)await multiplexer.ExecuteAsync("PUBLISH", [channel.Name, message], cancellationToken);

    public void Dispose() => _changes.Dispose();

    /// <summary>Runs on a new subscriber connection before it is used: subscribes again to everything, in one round trip.</summary>
    internal async Task RestoreAsync(PhysicalConnection connection)
    {
        var channels = _subscriptions.Keys.ToArray();
        var commands = Array.ConvertAll(channels, channel =>
            new PendingCommand(channel.IsPattern ? "PSUBSCRIBE" : "SUBSCRIBE", [channel.Name], multiplexer.Options.CommandTimeout));
        if (commands.Length == 0)
        {
            return;
        }

        if (!connection.TryEnqueue(commands))
        {
            throw connection.Failure!;
        }

        try
        {
            await Task.WhenAll(commands.Select(command => command.Task));
        }
        catch (Exception exception) when (exception is RedisServerException or RedisTimeoutException)
        {
            Log.ResubscribeFailed(logger, commands.Length, exception.Message);
            throw new RedisConnectionException(ConnectionFailureType.SocketClosed, $"Restoring subscriptions failed: {exception.Message}", exception);
        }
    }

    /// <summary>Sees every reply on the subscriber connection first; takes the messages, leaves the (un)subscribe confirmations.</summary>
    internal bool TryDispatch(RedisResult reply)
    {
        if (reply.Type is not (RedisResultType.Array or RedisResultType.Push) || reply.Length < 3)
        {
            return false;
        }

        var kind = reply[0].ToString();
        switch (kind)
        {
            case "message" when reply.Length == 3:
                Deliver(RedisChannel.Literal(reply[1].ToString()), RedisChannel.Literal(reply[1].ToString()), reply[2].ToRedisValue());
                return true;
            case "pmessage" when reply.Length == 4:
                Deliver(RedisChannel.Pattern(reply[1].ToString()), RedisChannel.Literal(reply[2].ToString()), reply[3].ToRedisValue());
                return true;
            default:
                return false;
        }
    }

    private void Deliver(RedisChannel subscription, RedisChannel channel, RedisValue message)
    {
        if (!_subscriptions.TryGetValue(subscription, out var handlers))
        {
            return;
        }

        foreach (var handler in handlers)
        {
            try
            {
                handler(channel, message);
            }
#pragma warning disable CA1031 // A failing handler must not take the subscriber connection (and every other subscription) down.
            catch (Exception exception)
#pragma warning restore CA1031
            {
                Log.HandlerFailed(logger, channel.Name, exception);
            }
        }
    }
}
