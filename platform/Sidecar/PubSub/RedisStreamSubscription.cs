using System.Collections.Concurrent;
using System.Text.Json;
using System.Threading.Channels;
using StackExchange.Redis;
using CloudScale.Sidecar.Api;

namespace CloudScale.Sidecar.PubSub;

/// <summary>
/// One topic's delivery loop, as contrib's redisStreams runs it: <c>XGROUP CREATE … 0 MKSTREAM</c> (a new group reads
/// the whole stream), <c>XREADGROUP … &gt;</c> into a queue of <c>queueDepth</c> served by <c>concurrency</c> workers,
/// <c>XACK</c> once the handler returns. A handler that fails, or runs past <c>processingTimeout</c>, leaves its entry
/// pending; every <c>redeliverInterval</c> the entries pending for at least <c>processingTimeout</c> are taken back with
/// <c>XPENDING</c> + <c>XCLAIM</c> and delivered again, whichever process or consumer held them, a crashed one included.
/// Unlike contrib, entries this process still holds (queued or in a handler) are not reclaimed from itself, which
/// avoids the duplicate concurrent delivery of components-contrib#4599. Each subscription has its own queue and
/// workers (contrib shares them across a component's topics), so a slow topic cannot starve another.
/// </summary>
internal sealed partial class RedisStreamSubscription(
    IDatabase database,
    IDatabase reader,
    string topic,
    RedisStreamSettings settings,
    Func<PubSubMessage, CancellationToken, Task> handler,
    ILogger logger)
{
    /// <summary>How long one XREADGROUP waits for entries; it returns as soon as any arrive.</summary>
    public static readonly TimeSpan ReadBlock = TimeSpan.FromSeconds(5);

    /// <summary>The pause after a failed Redis call before the loop tries again.</summary>
    private static readonly TimeSpan RetryPause = TimeSpan.FromSeconds(1);

    private readonly ConcurrentDictionary<string, byte> _held = new(StringComparer.Ordinal);

    private string Group => settings.ConsumerId;

    public async Task RunAsync(CancellationToken stopping)
    {
        await CreateGroupAsync(stopping);
        var queue = Channel.CreateBounded<StreamEntry>(new BoundedChannelOptions(settings.QueueDepth) { SingleWriter = false, SingleReader = false });
        var workers = Enumerable.Range(0, settings.Concurrency).Select(_ => WorkAsync(queue.Reader, stopping)).ToList();
        var reclaim = settings.Redelivers ? ReclaimLoopAsync(queue.Writer, stopping) : Task.CompletedTask;
        try
        {
            await PollLoopAsync(queue.Writer, stopping);
        }
        finally
        {
            // What is still queued stays pending in Redis: nothing is acknowledged that was not delivered.
            queue.Writer.TryComplete();
            await Task.WhenAll([reclaim, .. workers]);
        }
    }

    /// <summary>Creates the stream and the group if missing, trying again until Redis answers.</summary>
    private async Task CreateGroupAsync(CancellationToken stopping)
    {
        while (true)
        {
            try
            {
                await database.StreamCreateConsumerGroupAsync(topic, Group, "0", createStream: true).WaitAsync(stopping);
                return;
            }
            catch (RedisServerException exception) when (exception.Message.StartsWith("BUSYGROUP", StringComparison.Ordinal))
            {
                return;
            }
            catch (Exception exception) when (exception is RedisException or TimeoutException && !stopping.IsCancellationRequested)
            {
                LogReadFailed(topic, exception.Message);
                await Task.Delay(RetryPause, stopping);
            }
        }
    }

    private async Task PollLoopAsync(ChannelWriter<StreamEntry> queue, CancellationToken stopping)
    {
        while (true)
        {
            try
            {
                var reply = await reader.ExecuteAsync(
                    "XREADGROUP", "GROUP", Group, settings.ConsumerId, "COUNT", settings.QueueDepth, "BLOCK", (long)ReadBlock.TotalMilliseconds, "STREAMS", topic, ">").WaitAsync(stopping);
                await EnqueueAsync(queue, Entries(reply), stopping);
            }
            catch (RedisServerException exception) when (exception.Message.StartsWith("NOGROUP", StringComparison.Ordinal))
            {
                // The stream or the group is gone (a flushed or restarted Redis): create them again, as contrib does.
                LogGroupMissing(Group, topic);
                await CreateGroupAsync(stopping);
            }
            catch (Exception exception) when (exception is RedisException or TimeoutException && !stopping.IsCancellationRequested)
            {
                LogReadFailed(topic, exception.Message);
                await Task.Delay(RetryPause, stopping);
            }
        }
    }

    private async Task ReclaimLoopAsync(ChannelWriter<StreamEntry> queue, CancellationToken stopping)
    {
        try
        {
            using var timer = new PeriodicTimer(settings.RedeliverInterval);
            do
            {
                try
                {
                    await ReclaimAsync(queue, stopping);
                }
                catch (Exception exception) when (exception is RedisException or TimeoutException && !stopping.IsCancellationRequested)
                {
                    LogReclaimFailed(topic, exception.Message);
                }
            }
            while (await timer.WaitForNextTickAsync(stopping));
        }
        catch (Exception) when (stopping.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    private async Task ReclaimAsync(ChannelWriter<StreamEntry> queue, CancellationToken stopping)
    {
        while (true)
        {
            var pending = await database.StreamPendingMessagesAsync(topic, Group, settings.QueueDepth, RedisValue.Null).WaitAsync(stopping);
            RedisValue[] expired = [.. pending
                .Where(entry => entry.IdleTimeInMilliseconds >= settings.ProcessingTimeout.TotalMilliseconds && !_held.ContainsKey(entry.MessageId.ToString()))
                .Select(entry => entry.MessageId)];
            if (expired.Length == 0)
            {
                return;
            }

            var claimed = await database.StreamClaimAsync(topic, Group, settings.ConsumerId, (long)settings.ProcessingTimeout.TotalMilliseconds, expired).WaitAsync(stopping);
            await EnqueueAsync(queue, claimed, stopping);

            // An id XCLAIM did not return was either deleted from the stream or claimed by another consumer meanwhile.
            // contrib claims each one alone without an idle bound: an entry comes back and is delivered, or the id is
            // gone from the stream and is acknowledged so that it leaves the pending list.
            foreach (var id in expired.Except(claimed.Select(entry => entry.Id)))
            {
                var single = await database.StreamClaimAsync(topic, Group, settings.ConsumerId, 0, [id]).WaitAsync(stopping);
                if (single.Length == 0)
                {
                    await database.StreamAcknowledgeAsync(topic, Group, id).WaitAsync(stopping);
                }
                else
                {
                    await EnqueueAsync(queue, single, stopping);
                }
            }
        }
    }

    private async Task EnqueueAsync(ChannelWriter<StreamEntry> queue, IEnumerable<StreamEntry> entries, CancellationToken stopping)
    {
        foreach (var entry in entries)
        {
            if (_held.TryAdd(entry.Id.ToString(), 0))
            {
                await queue.WriteAsync(entry, stopping);
            }
        }
    }

    private async Task WorkAsync(ChannelReader<StreamEntry> queue, CancellationToken stopping)
    {
        try
        {
            await foreach (var entry in queue.ReadAllAsync(stopping))
            {
                try
                {
                    await DeliverAsync(entry, stopping);
                }
                finally
                {
                    _held.TryRemove(entry.Id.ToString(), out _);
                }
            }
        }
        catch (Exception) when (stopping.IsCancellationRequested)
        {
            // Stopping: the entry in hand, if any, was not acknowledged and stays pending.
        }
    }

    private async Task DeliverAsync(StreamEntry entry, CancellationToken stopping)
    {
        using var processing = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        if (settings.Redelivers)
        {
            // Past processingTimeout the entry is due for redelivery, so the attempt in hand gives up.
            processing.CancelAfter(settings.ProcessingTimeout);
        }

        try
        {
            await handler(ToMessage(entry), processing.Token);
        }
        catch (Exception exception) when (!stopping.IsCancellationRequested)
        {
            LogNotAcknowledged(entry.Id.ToString(), topic, exception.Message);
            return;
        }

        try
        {
            // Delivered: acknowledge even if stopping has begun meanwhile.
            await database.StreamAcknowledgeAsync(topic, Group, entry.Id);
        }
        catch (Exception exception) when (exception is RedisException or TimeoutException)
        {
            LogAcknowledgeFailed(entry.Id.ToString(), topic, exception.Message);
        }
    }

    private PubSubMessage ToMessage(StreamEntry entry)
    {
        Dictionary<string, string>? metadata = null;
        if (entry["metadata"] is { IsNull: false } json)
        {
            try
            {
                using var document = JsonDocument.Parse((ReadOnlyMemory<byte>)json);
                metadata = RequestMetadata.FromJson(document.RootElement, "metadata");
            }
            catch (JsonException exception)
            {
                LogMetadataUnreadable(entry.Id.ToString(), exception.Message);
            }
        }

        return new PubSubMessage(topic, (byte[]?)entry["data"] ?? [], metadata);
    }

    /// <summary>The entries of an XREADGROUP reply for one stream: nil when BLOCK timed out, else [[stream, [[id, [field, value, …]], …]]].</summary>
    private static IEnumerable<StreamEntry> Entries(RedisResult reply)
    {
        if (reply.IsNull)
        {
            yield break;
        }

        foreach (var entry in (RedisResult[])reply[0][1]!)
        {
            var fields = (RedisValue[]?)entry[1] ?? [];
            yield return new StreamEntry(
                (RedisValue)entry[0],
                [.. Enumerable.Range(0, fields.Length / 2).Select(pair => new NameValueEntry(fields[2 * pair], fields[(2 * pair) + 1]))]);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "redis streams: consumer group {Group} does not exist for stream {Topic}; creating it again")]
    private partial void LogGroupMissing(string group, string topic);

    [LoggerMessage(Level = LogLevel.Error, Message = "redis streams: error reading from stream {Topic}: {Reason}")]
    private partial void LogReadFailed(string topic, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "redis streams: error reclaiming pending messages of stream {Topic}: {Reason}")]
    private partial void LogReclaimFailed(string topic, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Message {Id} on topic {Topic} was not acknowledged and will be redelivered after processingTimeout: {Reason}")]
    private partial void LogNotAcknowledged(string id, string topic, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Error acknowledging message {Id} on topic {Topic}: {Reason}")]
    private partial void LogAcknowledgeFailed(string id, string topic, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not read the metadata of message {Id}: {Reason}")]
    private partial void LogMetadataUnreadable(string id, string reason);
}
