using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text;

namespace CloudScale.Redis;

internal sealed class RedisDatabase(ConnectionMultiplexer multiplexer) : IDatabase
{
    public IConnectionMultiplexer Multiplexer => multiplexer;

    public int Database => multiplexer.Options.DefaultDatabase;

    public Task<RedisResult> ExecuteAsync(string command, params RedisValue[] arguments) =>
        multiplexer.ExecuteAsync(command, arguments, CancellationToken.None);

    public Task<RedisResult> ExecuteAsync(string command, RedisValue[] arguments, CancellationToken cancellationToken) =>
        multiplexer.ExecuteAsync(command, arguments, cancellationToken);

    public async Task<TimeSpan> PingAsync(CancellationToken cancellationToken = default)
    {
        var started = Stopwatch.GetTimestamp();
        await Run("PING", [], cancellationToken);
        return Stopwatch.GetElapsedTime(started);
    }

    public async Task<string> InfoAsync(string? section = null, CancellationToken cancellationToken = default) =>
        (await Run("INFO", section is null ? [] : [section], cancellationToken)).ToString();

    public async IAsyncEnumerable<RedisKey> ScanAsync(RedisValue pattern = default, int pageSize = 250, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(pageSize, 1);
        RedisValue cursor = 0L;
        do
        {
            RedisValue[] arguments = pattern.IsNull ? [cursor, "COUNT", pageSize] : [cursor, "MATCH", pattern, "COUNT", pageSize];
            var page = await Run("SCAN", arguments, cancellationToken);
            cursor = page[0].ToRedisValue();
            foreach (var key in page[1].Items)
            {
                yield return RedisKey.FromBytes(key.ToRedisValue().AsMemory());
            }
        }
        while (cursor.ToInt64() != 0);
    }

    public async Task<RedisValue> StringGetAsync(RedisKey key, CancellationToken cancellationToken = default) =>
        (await Run("GET", [key], cancellationToken)).ToRedisValue();

    public async Task<RedisValue[]> StringGetAsync(RedisKey[] keys, CancellationToken cancellationToken = default) =>
        (await Run("MGET", Keys(keys), cancellationToken)).ToRedisValueArray();

    public async Task<bool> StringSetAsync(
        RedisKey key, RedisValue value, TimeSpan? expiry = null, When when = When.Always, bool keepTtl = false, CancellationToken cancellationToken = default) =>
        !(await Run("SET", SetArguments(key, value, expiry, when, keepTtl, get: false), cancellationToken)).IsNull;

    public async Task<RedisValue> StringSetAndGetAsync(
        RedisKey key, RedisValue value, TimeSpan? expiry = null, When when = When.Always, bool keepTtl = false, CancellationToken cancellationToken = default) =>
        (await Run("SET", SetArguments(key, value, expiry, when, keepTtl, get: true), cancellationToken)).ToRedisValue();

    public async Task<long> StringIncrementAsync(RedisKey key, long value = 1, CancellationToken cancellationToken = default) =>
        (long)(value == 1 ? await Run("INCR", [key], cancellationToken) : await Run("INCRBY", [key, value], cancellationToken));

    public async Task<bool> KeyDeleteAsync(RedisKey key, CancellationToken cancellationToken = default) =>
        (long)await Run("DEL", [key], cancellationToken) == 1;

    public async Task<long> KeyDeleteAsync(RedisKey[] keys, CancellationToken cancellationToken = default) =>
        (long)await Run("DEL", Keys(keys), cancellationToken);

    public async Task<long> KeyUnlinkAsync(RedisKey[] keys, CancellationToken cancellationToken = default) =>
        (long)await Run("UNLINK", Keys(keys), cancellationToken);

    public async Task<bool> KeyExistsAsync(RedisKey key, CancellationToken cancellationToken = default) =>
        (long)await Run("EXISTS", [key], cancellationToken) == 1;

    public async Task<long> KeyExistsAsync(RedisKey[] keys, CancellationToken cancellationToken = default) =>
        (long)await Run("EXISTS", Keys(keys), cancellationToken);

    public async Task<bool> KeyExpireAsync(RedisKey key, TimeSpan expiry, CancellationToken cancellationToken = default)
    {
        var reply = expiry.Ticks % TimeSpan.TicksPerSecond == 0
            ? await Run("EXPIRE", [key, (long)expiry.TotalSeconds], cancellationToken)
            : await Run("PEXPIRE", [key, (long)expiry.TotalMilliseconds], cancellationToken);
        return (long)reply == 1;
    }

    public async Task<TimeSpan?> KeyTimeToLiveAsync(RedisKey key, CancellationToken cancellationToken = default)
    {
        var milliseconds = (long)await Run("PTTL", [key], cancellationToken);
        return milliseconds < 0 ? null : TimeSpan.FromMilliseconds(milliseconds);
    }

    public async Task<RedisValue> HashGetAsync(RedisKey key, RedisValue field, CancellationToken cancellationToken = default) =>
        (await Run("HGET", [key, field], cancellationToken)).ToRedisValue();

    public async Task<RedisValue[]> HashGetAsync(RedisKey key, RedisValue[] fields, CancellationToken cancellationToken = default) =>
        (await Run("HMGET", [key, .. fields], cancellationToken)).ToRedisValueArray();

    public async Task<HashEntry[]> HashGetAllAsync(RedisKey key, CancellationToken cancellationToken = default)
    {
        var reply = await Run("HGETALL", [key], cancellationToken);
        var entries = new HashEntry[reply.Length / 2];
        for (var index = 0; index < entries.Length; index++)
        {
            entries[index] = new HashEntry(reply[2 * index].ToRedisValue(), reply[(2 * index) + 1].ToRedisValue());
        }

        return entries;
    }

    public async Task<bool> HashSetAsync(RedisKey key, RedisValue field, RedisValue value, CancellationToken cancellationToken = default) =>
        (long)await Run("HSET", [key, field, value], cancellationToken) == 1;

    public async Task<long> HashSetAsync(RedisKey key, HashEntry[] fields, CancellationToken cancellationToken = default)
    {
        var arguments = new RedisValue[1 + (2 * fields.Length)];
        arguments[0] = key;
        for (var index = 0; index < fields.Length; index++)
        {
            arguments[1 + (2 * index)] = fields[index].Name;
            arguments[2 + (2 * index)] = fields[index].Value;
        }

        return (long)await Run("HSET", arguments, cancellationToken);
    }

    public async Task<long> HashIncrementAsync(RedisKey key, RedisValue field, long value = 1, CancellationToken cancellationToken = default) =>
        (long)await Run("HINCRBY", [key, field, value], cancellationToken);

    public async Task<bool> HashDeleteAsync(RedisKey key, RedisValue field, CancellationToken cancellationToken = default) =>
        (long)await Run("HDEL", [key, field], cancellationToken) == 1;

    public async Task<long> HashDeleteAsync(RedisKey key, RedisValue[] fields, CancellationToken cancellationToken = default) =>
        (long)await Run("HDEL", [key, .. fields], cancellationToken);

    public async Task<bool> SortedSetAddAsync(RedisKey key, RedisValue member, double score, When when = When.Always, CancellationToken cancellationToken = default) =>
        await SortedSetAddAsync(key, [new SortedSetEntry(member, score)], when, cancellationToken) == 1;

    public async Task<long> SortedSetAddAsync(RedisKey key, SortedSetEntry[] entries, When when = When.Always, CancellationToken cancellationToken = default)
    {
        var arguments = new List<RedisValue>(2 + (2 * entries.Length)) { key };
        if (when != When.Always)
        {
            arguments.Add(when == When.Exists ? "XX" : "NX");
        }

        foreach (var entry in entries)
        {
            arguments.Add(entry.Score);
            arguments.Add(entry.Element);
        }

        return (long)await Run("ZADD", [.. arguments], cancellationToken);
    }

    public async Task<RedisValue[]> SortedSetRangeByRankAsync(RedisKey key, long start = 0, long stop = -1, Order order = Order.Ascending, CancellationToken cancellationToken = default) =>
        (await Run("ZRANGE", RankRange(key, start, stop, order, withScores: false), cancellationToken)).ToRedisValueArray();

    public async Task<SortedSetEntry[]> SortedSetRangeByRankWithScoresAsync(
        RedisKey key, long start = 0, long stop = -1, Order order = Order.Ascending, CancellationToken cancellationToken = default) =>
        ReadScored(await Run("ZRANGE", RankRange(key, start, stop, order, withScores: true), cancellationToken));

    public async Task<RedisValue[]> SortedSetRangeByScoreAsync(
        RedisKey key, double start = double.NegativeInfinity, double stop = double.PositiveInfinity, Exclude exclude = Exclude.None,
        Order order = Order.Ascending, long skip = 0, long take = -1, CancellationToken cancellationToken = default) =>
        (await Run("ZRANGE", ScoreRange(key, start, stop, exclude, order, skip, take, withScores: false), cancellationToken)).ToRedisValueArray();

    public async Task<SortedSetEntry[]> SortedSetRangeByScoreWithScoresAsync(
        RedisKey key, double start = double.NegativeInfinity, double stop = double.PositiveInfinity, Exclude exclude = Exclude.None,
        Order order = Order.Ascending, long skip = 0, long take = -1, CancellationToken cancellationToken = default) =>
        ReadScored(await Run("ZRANGE", ScoreRange(key, start, stop, exclude, order, skip, take, withScores: true), cancellationToken));

    public async Task<long> SortedSetRemoveRangeByScoreAsync(RedisKey key, double start, double stop, Exclude exclude = Exclude.None, CancellationToken cancellationToken = default) =>
        (long)await Run("ZREMRANGEBYSCORE", [key, Bound(start, exclude.HasFlag(Exclude.Start)), Bound(stop, exclude.HasFlag(Exclude.Stop))], cancellationToken);

    public async Task<long> SortedSetLengthAsync(RedisKey key, CancellationToken cancellationToken = default) =>
        (long)await Run("ZCARD", [key], cancellationToken);

    public async Task<RedisValue> StreamAddAsync(
        RedisKey key, NameValueEntry[] fields, RedisValue messageId = default, StreamTrim? trim = null, CancellationToken cancellationToken = default)
    {
        var arguments = new List<RedisValue>(6 + (2 * fields.Length)) { key };
        if (trim is not null)
        {
            arguments.Add(trim.Strategy);
            arguments.Add(trim.Approximate ? "~" : "=");
            arguments.Add(trim.Threshold);
        }

        arguments.Add(messageId.IsNull ? "*" : messageId);
        foreach (var field in fields)
        {
            arguments.Add(field.Name);
            arguments.Add(field.Value);
        }

        return (await Run("XADD", [.. arguments], cancellationToken)).ToRedisValue();
    }

    public async Task<bool> StreamCreateConsumerGroupAsync(
        RedisKey key, RedisValue groupName, RedisValue position = default, bool createStream = true, CancellationToken cancellationToken = default)
    {
        RedisValue[] arguments = createStream
            ? ["CREATE", key, groupName, position.IsNull ? "$" : position, "MKSTREAM"]
            : ["CREATE", key, groupName, position.IsNull ? "$" : position];
        try
        {
            await Run("XGROUP", arguments, cancellationToken);
            return true;
        }
        catch (RedisServerException exception) when (exception.Message.StartsWith("BUSYGROUP", StringComparison.Ordinal))
        {
            return false;
        }
    }

    public async Task<StreamEntry[]> StreamReadGroupAsync(
        RedisKey key, RedisValue groupName, RedisValue consumerName, RedisValue position = default, int? count = null,
        bool noAck = false, TimeSpan? block = null, CancellationToken cancellationToken = default)
    {
        var arguments = new List<RedisValue>(12) { "GROUP", groupName, consumerName };
        if (count is not null)
        {
            arguments.Add("COUNT");
            arguments.Add(count.Value);
        }

        if (block is not null)
        {
            arguments.Add("BLOCK");
            arguments.Add((long)block.Value.TotalMilliseconds);
        }

        if (noAck)
        {
            arguments.Add("NOACK");
        }

        arguments.Add("STREAMS");
        arguments.Add(key);
        arguments.Add(position.IsNull ? ">" : position);
        var reply = block is null
            ? await Run("XREADGROUP", [.. arguments], cancellationToken)
            : await RunBlockingAsync("XREADGROUP", [.. arguments], block.Value, cancellationToken);
        return StreamReplies.ReadFirstStream(reply);
    }

    public async Task<long> StreamAcknowledgeAsync(RedisKey key, RedisValue groupName, RedisValue[] messageIds, CancellationToken cancellationToken = default) =>
        (long)await Run("XACK", [key, groupName, .. messageIds], cancellationToken);

    public async Task<StreamPendingInfo> StreamPendingAsync(RedisKey key, RedisValue groupName, CancellationToken cancellationToken = default) =>
        StreamReplies.ReadPendingSummary(await Run("XPENDING", [key, groupName], cancellationToken));

    public async Task<StreamPendingMessageInfo[]> StreamPendingMessagesAsync(
        RedisKey key, RedisValue groupName, int count, RedisValue consumerName = default, RedisValue minId = default, RedisValue maxId = default,
        TimeSpan? minIdleTime = null, CancellationToken cancellationToken = default)
    {
        var arguments = new List<RedisValue>(8) { key, groupName };
        if (minIdleTime is not null)
        {
            arguments.Add("IDLE");
            arguments.Add((long)minIdleTime.Value.TotalMilliseconds);
        }

        arguments.Add(minId.IsNull ? "-" : minId);
        arguments.Add(maxId.IsNull ? "+" : maxId);
        arguments.Add(count);
        if (!consumerName.IsNull)
        {
            arguments.Add(consumerName);
        }

        var reply = await Run("XPENDING", [.. arguments], cancellationToken);
        return [.. reply.Items.Select(row => new StreamPendingMessageInfo(row[0].ToRedisValue(), row[1].ToRedisValue(), (long)row[2], (long)row[3]))];
    }

    public async Task<StreamEntry[]> StreamClaimAsync(
        RedisKey key, RedisValue groupName, RedisValue consumerName, TimeSpan minIdleTime, RedisValue[] messageIds, CancellationToken cancellationToken = default) =>
        StreamReplies.ReadEntries(await Run("XCLAIM", [key, groupName, consumerName, (long)minIdleTime.TotalMilliseconds, .. messageIds], cancellationToken));

    public async Task<StreamAutoClaimResult> StreamAutoClaimAsync(
        RedisKey key, RedisValue groupName, RedisValue consumerName, TimeSpan minIdleTime, RedisValue startAtId, int? count = null, CancellationToken cancellationToken = default)
    {
        RedisValue[] arguments = count is null
            ? [key, groupName, consumerName, (long)minIdleTime.TotalMilliseconds, startAtId]
            : [key, groupName, consumerName, (long)minIdleTime.TotalMilliseconds, startAtId, "COUNT", count.Value];
        var reply = await Run("XAUTOCLAIM", arguments, cancellationToken);
        return new StreamAutoClaimResult(
            reply[0].ToRedisValue(),
            StreamReplies.ReadEntries(reply[1]),
            reply.Length > 2 ? reply[2].ToRedisValueArray() : []);
    }

    public async Task<long> StreamLengthAsync(RedisKey key, CancellationToken cancellationToken = default) =>
        (long)await Run("XLEN", [key], cancellationToken);

    public async Task<StreamInfo> StreamInfoAsync(RedisKey key, CancellationToken cancellationToken = default) =>
        StreamReplies.ReadInfo(await Run("XINFO", ["STREAM", key], cancellationToken));

    public async Task<StreamGroupInfo[]> StreamGroupInfoAsync(RedisKey key, CancellationToken cancellationToken = default) =>
        [.. (await Run("XINFO", ["GROUPS", key], cancellationToken)).Items.Select(StreamReplies.ReadGroupInfo)];

    public Task<RedisResult> ScriptEvaluateAsync(string script, RedisKey[]? keys = null, RedisValue[]? values = null, CancellationToken cancellationToken = default) =>
        ScriptEvaluateAsync(LuaScript.Prepare(script), keys, values, cancellationToken);

    public async Task<RedisResult> ScriptEvaluateAsync(LuaScript script, RedisKey[]? keys = null, RedisValue[]? values = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(script);
        keys ??= [];
        RedisValue[] tail = [keys.Length, .. Keys(keys), .. values ?? []];
        try
        {
            return await Run("EVALSHA", [script.Sha1, .. tail], cancellationToken);
        }
        catch (RedisServerException exception) when (exception.Message.StartsWith("NOSCRIPT", StringComparison.Ordinal))
        {
            // EVAL also caches the script, so the next EVALSHA finds it.
            return await Run("EVAL", [script.Text, .. tail], cancellationToken);
        }
    }

    public async Task<string> ScriptLoadAsync(string script, CancellationToken cancellationToken = default) =>
        (await Run("SCRIPT", ["LOAD", script], cancellationToken)).ToString();

    public ITransaction CreateTransaction() => new RedisTransaction(multiplexer);

    internal static RedisValue[] Keys(RedisKey[] keys) => Array.ConvertAll(keys, key => key.ToRedisValue());

    private Task<RedisResult> Run(string command, RedisValue[] arguments, CancellationToken cancellationToken) =>
        multiplexer.ExecuteAsync(command, arguments, cancellationToken);

    private async Task<RedisResult> RunBlockingAsync(string command, RedisValue[] arguments, TimeSpan block, CancellationToken cancellationToken)
    {
        var connection = await multiplexer.LeaseAsync(cancellationToken);
        try
        {
            return await multiplexer.SendAsync(connection, command, arguments, block + multiplexer.Options.CommandTimeout, cancellationToken);
        }
        finally
        {
            multiplexer.Return(connection);
        }
    }

    private static RedisValue[] SetArguments(RedisKey key, RedisValue value, TimeSpan? expiry, When when, bool keepTtl, bool get)
    {
        var arguments = new List<RedisValue>(7) { key, value };
        if (expiry is { } ttl)
        {
            var wholeSeconds = ttl.Ticks % TimeSpan.TicksPerSecond == 0;
            arguments.Add(wholeSeconds ? "EX" : "PX");
            arguments.Add(wholeSeconds ? (long)ttl.TotalSeconds : (long)ttl.TotalMilliseconds);
        }

        if (when != When.Always)
        {
            arguments.Add(when == When.Exists ? "XX" : "NX");
        }

        if (keepTtl)
        {
            arguments.Add("KEEPTTL");
        }

        if (get)
        {
            arguments.Add("GET");
        }

        return [.. arguments];
    }

    private static RedisValue[] RankRange(RedisKey key, long start, long stop, Order order, bool withScores) =>
        [key, start, stop, .. order == Order.Descending ? ["REV"] : Array.Empty<RedisValue>(), .. withScores ? ["WITHSCORES"] : Array.Empty<RedisValue>()];

    private static RedisValue[] ScoreRange(RedisKey key, double start, double stop, Exclude exclude, Order order, long skip, long take, bool withScores)
    {
        var low = Bound(start, exclude.HasFlag(Exclude.Start));
        var high = Bound(stop, exclude.HasFlag(Exclude.Stop));
        var arguments = new List<RedisValue>(10) { key };
        // With REV, ZRANGE takes the range from the high end.
        arguments.Add(order == Order.Descending ? high : low);
        arguments.Add(order == Order.Descending ? low : high);
        arguments.Add("BYSCORE");
        if (order == Order.Descending)
        {
            arguments.Add("REV");
        }

        if (skip != 0 || take != -1)
        {
            arguments.Add("LIMIT");
            arguments.Add(skip);
            arguments.Add(take);
        }

        if (withScores)
        {
            arguments.Add("WITHSCORES");
        }

        return [.. arguments];
    }

    private static RedisValue Bound(double score, bool exclusive)
    {
        var text = RespFormat.FormatDouble(score);
        return exclusive ? "(" + text : text;
    }

    /// <summary>WITHSCORES replies: a flat member, score… array in RESP2, an array of [member, score] pairs in RESP3.</summary>
    private static SortedSetEntry[] ReadScored(RedisResult reply)
    {
        if (reply.Length > 0 && reply[0].Type == RedisResultType.Array)
        {
            return [.. reply.Items.Select(pair => new SortedSetEntry(pair[0].ToRedisValue(), (double)pair[1]))];
        }

        var entries = new SortedSetEntry[reply.Length / 2];
        for (var index = 0; index < entries.Length; index++)
        {
            entries[index] = new SortedSetEntry(reply[2 * index].ToRedisValue(), (double)reply[(2 * index) + 1]);
        }

        return entries;
    }
}

/// <summary>A prepared Lua script: its text and SHA1, so that it is sent with EVALSHA and only falls back to EVAL once.</summary>
public sealed class LuaScript
{
    private LuaScript(string text)
    {
        Text = text;
#pragma warning disable CA5350 // Redis names cached scripts by their SHA1; it is an identifier here, not a security measure.
        Sha1 = Convert.ToHexStringLower(System.Security.Cryptography.SHA1.HashData(Encoding.UTF8.GetBytes(text)));
#pragma warning restore CA5350
    }

    public string Text { get; }

    public string Sha1 { get; }

    public static LuaScript Prepare(string script)
    {
        ArgumentException.ThrowIfNullOrEmpty(script);
        return new LuaScript(script);
    }

    public Task<RedisResult> EvaluateAsync(IDatabase database, RedisKey[]? keys = null, RedisValue[]? values = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(database);
        return database.ScriptEvaluateAsync(this, keys, values, cancellationToken);
    }
}
