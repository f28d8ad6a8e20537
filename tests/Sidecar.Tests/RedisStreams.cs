using CloudScale.Redis;

namespace CloudScale.Sidecar.Tests;

/// <summary>What pubsub.redis left in Redis, read directly: stream entries and consumer-group pending counts.</summary>
internal static class RedisStreams
{
    /// <summary>XRANGE of the whole stream: each entry's fields in the order Redis keeps them.</summary>
    public static async Task<IReadOnlyList<IReadOnlyList<(string Field, byte[] Value)>>> EntriesAsync(IDatabase redis, string stream)
    {
        var reply = await redis.ExecuteAsync("XRANGE", [stream, "-", "+"], TestContext.Current.CancellationToken);
        return [.. reply.Items.Select(entry => (IReadOnlyList<(string, byte[])>)[.. Pairs(entry[1])])];
    }

    /// <summary>The number of entries <paramref name="group"/> has read and not acknowledged.</summary>
    public static async Task<long> PendingAsync(IDatabase redis, string stream, string group) =>
        (await redis.StreamPendingAsync(stream, group, TestContext.Current.CancellationToken)).PendingMessageCount;

    private static IEnumerable<(string, byte[])> Pairs(RedisResult fields)
    {
        for (var index = 0; index + 1 < fields.Length; index += 2)
        {
            yield return (fields[index].ToString(), (byte[])fields[index + 1]!);
        }
    }
}
