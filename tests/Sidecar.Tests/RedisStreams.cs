using StackExchange.Redis;

namespace CloudScale.Sidecar.Tests;

/// <summary>What pubsub.redis left in Redis, read directly: stream entries and consumer-group pending counts.</summary>
internal static class RedisStreams
{
    /// <summary>XRANGE of the whole stream: each entry's fields in the order Redis keeps them.</summary>
    public static async Task<IReadOnlyList<IReadOnlyList<(string Field, byte[] Value)>>> EntriesAsync(IDatabase redis, string stream)
    {
        var reply = await redis.ExecuteAsync("XRANGE", stream, "-", "+");
        return [.. ((RedisResult[])reply!).Select(entry => (IReadOnlyList<(string, byte[])>)[.. Pairs(entry[1])])];
    }

    /// <summary>The number of entries <paramref name="group"/> has read and not acknowledged.</summary>
    public static async Task<long> PendingAsync(IDatabase redis, string stream, string group) =>
        (await redis.StreamPendingAsync(stream, group)).PendingMessageCount;

    /// <summary>
    /// Whether <paramref name="group"/> has read up to the stream's newest entry and acknowledged everything it read. No
    /// pending entries alone is also true before the subscriber has read a new entry at all.
    /// </summary>
    public static async Task<bool> AllReadAndAcknowledgedAsync(IDatabase redis, string stream, string group)
    {
        var newest = await redis.ExecuteAsync("XREVRANGE", stream, "+", "-", "COUNT", "1");
        var groupInfo = ((RedisResult[])(await redis.ExecuteAsync("XINFO", "GROUPS", stream))!)
            .Select(fields => Enumerable.Range(0, fields.Length / 2).ToDictionary(pair => fields[2 * pair].ToString(), pair => fields[(2 * pair) + 1].ToString(), StringComparer.Ordinal))
            .SingleOrDefault(fields => fields["name"] == group);
        return newest.Length == 1 && groupInfo is not null
            && groupInfo["last-delivered-id"] == newest[0][0].ToString() && groupInfo["pending"] == "0";
    }

    private static IEnumerable<(string, byte[])> Pairs(RedisResult fields)
    {
        for (var index = 0; index + 1 < fields.Length; index += 2)
        {
            yield return (fields[index].ToString(), (byte[])fields[index + 1]!);
        }
    }
}
