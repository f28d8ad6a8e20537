namespace CloudScale.Redis;

/// <summary>
/// The commands of one Redis database, shaped like StackExchange.Redis's <c>IDatabase</c> (async only). Every call is
/// pipelined on the multiplexer's shared connection unless its documentation says otherwise.
/// </summary>
public interface IDatabase
{
    IConnectionMultiplexer Multiplexer { get; }

    int Database { get; }

    /// <summary>Any command; the reply as Redis sent it. Error replies throw <see cref="RedisServerException"/>.</summary>
    Task<RedisResult> ExecuteAsync(string command, params RedisValue[] arguments);

    Task<RedisResult> ExecuteAsync(string command, RedisValue[] arguments, CancellationToken cancellationToken);

    Task<TimeSpan> PingAsync(CancellationToken cancellationToken = default);

    /// <summary>INFO as Redis formats it (<c>field:value</c> lines under <c># Section</c> headings).</summary>
    Task<string> InfoAsync(string? section = null, CancellationToken cancellationToken = default);

    /// <summary>Every key matching <paramref name="pattern"/>, paged with SCAN (never KEYS); keys may repeat if the keyspace is rehashed meanwhile.</summary>
    IAsyncEnumerable<RedisKey> ScanAsync(RedisValue pattern = default, int pageSize = 250, CancellationToken cancellationToken = default);

    Task<RedisValue> StringGetAsync(RedisKey key, CancellationToken cancellationToken = default);

    /// <summary>MGET.</summary>
    Task<RedisValue[]> StringGetAsync(RedisKey[] keys, CancellationToken cancellationToken = default);

    /// <summary>SET with EX or PX (whichever is exact), NX/XX and KEEPTTL; false when NX/XX prevented the write.</summary>
    Task<bool> StringSetAsync(RedisKey key, RedisValue value, TimeSpan? expiry = null, When when = When.Always, bool keepTtl = false, CancellationToken cancellationToken = default);

    /// <summary>SET … GET: writes and returns the previous value.</summary>
    Task<RedisValue> StringSetAndGetAsync(RedisKey key, RedisValue value, TimeSpan? expiry = null, When when = When.Always, bool keepTtl = false, CancellationToken cancellationToken = default);

    /// <summary>INCR, or INCRBY when <paramref name="value"/> is not 1.</summary>
    Task<long> StringIncrementAsync(RedisKey key, long value = 1, CancellationToken cancellationToken = default);

    Task<bool> KeyDeleteAsync(RedisKey key, CancellationToken cancellationToken = default);

    Task<long> KeyDeleteAsync(RedisKey[] keys, CancellationToken cancellationToken = default);

    /// <summary>UNLINK: deletes, reclaiming memory in the background.</summary>
    Task<long> KeyUnlinkAsync(RedisKey[] keys, CancellationToken cancellationToken = default);

    Task<bool> KeyExistsAsync(RedisKey key, CancellationToken cancellationToken = default);

    Task<long> KeyExistsAsync(RedisKey[] keys, CancellationToken cancellationToken = default);

    /// <summary>EXPIRE for whole seconds, PEXPIRE otherwise; false when the key does not exist.</summary>
    Task<bool> KeyExpireAsync(RedisKey key, TimeSpan expiry, CancellationToken cancellationToken = default);

    /// <summary>PTTL; null when the key does not exist or has no expiry.</summary>
    Task<TimeSpan?> KeyTimeToLiveAsync(RedisKey key, CancellationToken cancellationToken = default);

    Task<RedisValue> HashGetAsync(RedisKey key, RedisValue field, CancellationToken cancellationToken = default);

    /// <summary>HMGET.</summary>
    Task<RedisValue[]> HashGetAsync(RedisKey key, RedisValue[] fields, CancellationToken cancellationToken = default);

    Task<HashEntry[]> HashGetAllAsync(RedisKey key, CancellationToken cancellationToken = default);

    /// <summary>True when the field is new.</summary>
    Task<bool> HashSetAsync(RedisKey key, RedisValue field, RedisValue value, CancellationToken cancellationToken = default);

    /// <summary>The number of new fields.</summary>
    Task<long> HashSetAsync(RedisKey key, HashEntry[] fields, CancellationToken cancellationToken = default);

    Task<long> HashIncrementAsync(RedisKey key, RedisValue field, long value = 1, CancellationToken cancellationToken = default);

    Task<bool> HashDeleteAsync(RedisKey key, RedisValue field, CancellationToken cancellationToken = default);

    Task<long> HashDeleteAsync(RedisKey key, RedisValue[] fields, CancellationToken cancellationToken = default);

    /// <summary>True when the member is new.</summary>
    Task<bool> SortedSetAddAsync(RedisKey key, RedisValue member, double score, When when = When.Always, CancellationToken cancellationToken = default);

    Task<long> SortedSetAddAsync(RedisKey key, SortedSetEntry[] entries, When when = When.Always, CancellationToken cancellationToken = default);

    Task<RedisValue[]> SortedSetRangeByRankAsync(RedisKey key, long start = 0, long stop = -1, Order order = Order.Ascending, CancellationToken cancellationToken = default);

    Task<SortedSetEntry[]> SortedSetRangeByRankWithScoresAsync(RedisKey key, long start = 0, long stop = -1, Order order = Order.Ascending, CancellationToken cancellationToken = default);

    /// <summary>ZRANGE … BYSCORE [REV] [LIMIT skip take]; with <see cref="Order.Descending"/>, <paramref name="start"/> is still the lower score.</summary>
    Task<RedisValue[]> SortedSetRangeByScoreAsync(
        RedisKey key, double start = double.NegativeInfinity, double stop = double.PositiveInfinity, Exclude exclude = Exclude.None,
        Order order = Order.Ascending, long skip = 0, long take = -1, CancellationToken cancellationToken = default);

    Task<SortedSetEntry[]> SortedSetRangeByScoreWithScoresAsync(
        RedisKey key, double start = double.NegativeInfinity, double stop = double.PositiveInfinity, Exclude exclude = Exclude.None,
        Order order = Order.Ascending, long skip = 0, long take = -1, CancellationToken cancellationToken = default);

    Task<long> SortedSetRemoveRangeByScoreAsync(RedisKey key, double start, double stop, Exclude exclude = Exclude.None, CancellationToken cancellationToken = default);

    Task<long> SortedSetLengthAsync(RedisKey key, CancellationToken cancellationToken = default);

    /// <summary>XADD; returns the new entry's id.</summary>
    Task<RedisValue> StreamAddAsync(RedisKey key, NameValueEntry[] fields, RedisValue messageId = default, StreamTrim? trim = null, CancellationToken cancellationToken = default);

    /// <summary>XGROUP CREATE … MKSTREAM; false when the group already exists (BUSYGROUP).</summary>
    Task<bool> StreamCreateConsumerGroupAsync(RedisKey key, RedisValue groupName, RedisValue position = default, bool createStream = true, CancellationToken cancellationToken = default);

    /// <summary>
    /// XREADGROUP for one stream. With <paramref name="block"/>, it runs on a dedicated connection so that it cannot hold up
    /// the shared one, and may wait that long (plus the command timeout) for entries.
    /// </summary>
    Task<StreamEntry[]> StreamReadGroupAsync(
        RedisKey key, RedisValue groupName, RedisValue consumerName, RedisValue position = default, int? count = null,
        bool noAck = false, TimeSpan? block = null, CancellationToken cancellationToken = default);

    Task<long> StreamAcknowledgeAsync(RedisKey key, RedisValue groupName, RedisValue[] messageIds, CancellationToken cancellationToken = default);

    /// <summary>XPENDING summary form.</summary>
    Task<StreamPendingInfo> StreamPendingAsync(RedisKey key, RedisValue groupName, CancellationToken cancellationToken = default);

    /// <summary>XPENDING extended form.</summary>
    Task<StreamPendingMessageInfo[]> StreamPendingMessagesAsync(
        RedisKey key, RedisValue groupName, int count, RedisValue consumerName = default, RedisValue minId = default, RedisValue maxId = default,
        TimeSpan? minIdleTime = null, CancellationToken cancellationToken = default);

    Task<StreamEntry[]> StreamClaimAsync(RedisKey key, RedisValue groupName, RedisValue consumerName, TimeSpan minIdleTime, RedisValue[] messageIds, CancellationToken cancellationToken = default);

    Task<StreamAutoClaimResult> StreamAutoClaimAsync(
        RedisKey key, RedisValue groupName, RedisValue consumerName, TimeSpan minIdleTime, RedisValue startAtId, int? count = null, CancellationToken cancellationToken = default);

    Task<long> StreamLengthAsync(RedisKey key, CancellationToken cancellationToken = default);

    /// <summary>XINFO STREAM.</summary>
    Task<StreamInfo> StreamInfoAsync(RedisKey key, CancellationToken cancellationToken = default);

    /// <summary>XINFO GROUPS.</summary>
    Task<StreamGroupInfo[]> StreamGroupInfoAsync(RedisKey key, CancellationToken cancellationToken = default);

    /// <summary>EVALSHA, falling back to EVAL when the server does not have the script cached (NOSCRIPT).</summary>
    Task<RedisResult> ScriptEvaluateAsync(string script, RedisKey[]? keys = null, RedisValue[]? values = null, CancellationToken cancellationToken = default);

    Task<RedisResult> ScriptEvaluateAsync(LuaScript script, RedisKey[]? keys = null, RedisValue[]? values = null, CancellationToken cancellationToken = default);

    /// <summary>SCRIPT LOAD; returns the script's SHA1.</summary>
    Task<string> ScriptLoadAsync(string script, CancellationToken cancellationToken = default);

    /// <summary>A MULTI/EXEC transaction; see <see cref="ITransaction"/>.</summary>
    ITransaction CreateTransaction();
}
