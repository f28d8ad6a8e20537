namespace CloudScale.Redis;

/// <summary>When a write applies: always, only if the key (or member) exists (XX), or only if it does not (NX).</summary>
public enum When
{
    Always,
    Exists,
    NotExists,
}

public enum Order
{
    Ascending,
    Descending,
}

/// <summary>Which ends of a score range are exclusive.</summary>
[Flags]
public enum Exclude
{
    None = 0,
    Start = 1,
    Stop = 2,
    Both = Start | Stop,
}

public readonly record struct HashEntry(RedisValue Name, RedisValue Value);

public readonly record struct SortedSetEntry(RedisValue Element, double Score);

public readonly record struct NameValueEntry(RedisValue Name, RedisValue Value);

/// <summary>A stream entry; <see cref="Values"/> is empty when the entry was deleted while pending.</summary>
public sealed record StreamEntry(RedisValue Id, IReadOnlyList<NameValueEntry> Values)
{
    public RedisValue this[RedisValue name] => Values.FirstOrDefault(entry => entry.Name == name).Value;
}

public sealed record StreamConsumer(RedisValue Name, long PendingMessageCount);

/// <summary>The XPENDING summary of a consumer group.</summary>
public sealed record StreamPendingInfo(long PendingMessageCount, RedisValue LowestPendingMessageId, RedisValue HighestPendingMessageId, IReadOnlyList<StreamConsumer> Consumers);

/// <summary>One row of the extended XPENDING form.</summary>
public sealed record StreamPendingMessageInfo(RedisValue MessageId, RedisValue ConsumerName, long IdleTimeInMilliseconds, long DeliveryCount);

public sealed record StreamAutoClaimResult(RedisValue NextStartId, IReadOnlyList<StreamEntry> ClaimedEntries, IReadOnlyList<RedisValue> DeletedIds);

public sealed record StreamInfo(long Length, long ConsumerGroupCount, RedisValue LastGeneratedId, StreamEntry? FirstEntry, StreamEntry? LastEntry);

public sealed record StreamGroupInfo(RedisValue Name, long ConsumerCount, long PendingMessageCount, RedisValue LastDeliveredId, long? Lag);

/// <summary>How XADD trims the stream: to a length (<c>MAXLEN</c>) or below an id (<c>MINID</c>), exactly or approximately (<c>~</c>).</summary>
public sealed record StreamTrim
{
    private StreamTrim(string strategy, RedisValue threshold, bool approximate)
    {
        Strategy = strategy;
        Threshold = threshold;
        Approximate = approximate;
    }

    internal string Strategy { get; }

    internal RedisValue Threshold { get; }

    internal bool Approximate { get; }

    public static StreamTrim MaxLength(long length, bool approximate = true) => new("MAXLEN", length, approximate);

    public static StreamTrim MinId(RedisValue id, bool approximate = true) => new("MINID", id, approximate);
}
