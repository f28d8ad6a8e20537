namespace CloudScale.Redis;

/// <summary>Reads stream replies, which come as arrays in RESP2 and partly as maps in RESP3 (flattened the same way).</summary>
internal static class StreamReplies
{
    /// <summary>XREAD/XREADGROUP: [[key, entries], …] in RESP2, {key: entries} in RESP3, null when nothing arrived.</summary>
    public static StreamEntry[] ReadFirstStream(RedisResult reply) => reply switch
    {
        { IsNull: true } or { Length: 0 } => [],
        { Type: RedisResultType.Map } => ReadEntries(reply[1]),
        _ => ReadEntries(reply[0][1]),
    };

    public static StreamEntry[] ReadEntries(RedisResult entries) =>
        [.. entries.Items.Where(entry => !entry.IsNull).Select(ReadEntry)];

    public static StreamPendingInfo ReadPendingSummary(RedisResult reply) => new(
        (long)reply[0],
        reply[1].ToRedisValue(),
        reply[2].ToRedisValue(),
        [.. reply[3].Items.Select(consumer => new StreamConsumer(consumer[0].ToRedisValue(), (long)consumer[1]))]);

    public static StreamInfo ReadInfo(RedisResult reply)
    {
        var fields = reply.ToPairs();
        return new StreamInfo(
            (long)fields["length"],
            (long)fields["groups"],
            fields["last-generated-id"].ToRedisValue(),
            OptionalEntry(fields.GetValueOrDefault("first-entry")),
            OptionalEntry(fields.GetValueOrDefault("last-entry")));
    }

    public static StreamGroupInfo ReadGroupInfo(RedisResult group)
    {
        var fields = group.ToPairs();
        return new StreamGroupInfo(
            fields["name"].ToRedisValue(),
            (long)fields["consumers"],
            (long)fields["pending"],
            fields["last-delivered-id"].ToRedisValue(),
            fields.GetValueOrDefault("lag") is { IsNull: false } lag ? (long)lag : null);
    }

    private static StreamEntry? OptionalEntry(RedisResult? entry) => entry is null || entry.IsNull ? null : ReadEntry(entry);

    private static StreamEntry ReadEntry(RedisResult entry)
    {
        var fields = entry[1];
        var values = new NameValueEntry[fields.Length / 2];
        for (var index = 0; index < values.Length; index++)
        {
            values[index] = new NameValueEntry(fields[2 * index].ToRedisValue(), fields[(2 * index) + 1].ToRedisValue());
        }

        return new StreamEntry(entry[0].ToRedisValue(), values);
    }
}
