using System.Globalization;
using StackExchange.Redis;
using CloudScale.Sidecar.Configuration;

namespace CloudScale.Sidecar.State;

/// <summary>
/// <c>state.redis</c> with contrib's data layout: every key is a hash of <c>data</c> (the jsoniter-encoded value),
/// <c>version</c> (the etag, incremented by each write) and, after a first-write save, <c>first-write</c>. Writes and
/// deletes run contrib's own Lua scripts, so ours and daprd agree on every concurrency decision over the same keys.
/// Transactions are those scripts in MULTI/EXEC, which Redis does not roll back: a failing operation leaves the
/// others applied, exactly as with daprd. StackExchange.Redis takes no cancellation: each command is bounded by the
/// component's <c>readTimeout</c> instead.
/// </summary>
internal sealed class RedisStateStore : IStateStore
{
    /// <summary>contrib's <c>setDefaultQuery</c>. ARGV: etag (0 for none), value, 0 when the write is first-write.</summary>
    private const string SetScript = """
        local etag = redis.pcall("HGET", KEYS[1], "version");
        if type(etag) == "table" then
          redis.call("DEL", KEYS[1]);
        end;
        local fwr = redis.pcall("HGET", KEYS[1], "first-write");
        if not etag or type(etag)=="table" or etag == "" or etag == ARGV[1] or (not fwr and ARGV[1] == "0") then
          redis.call("HSET", KEYS[1], "data", ARGV[2]);
          if ARGV[3] == "0" then
            redis.call("HSET", KEYS[1], "first-write", 0);
          end;
          return redis.call("HINCRBY", KEYS[1], "version", 1)
        else
          return error("failed to set key " .. KEYS[1])
        end
        """;

    /// <summary>contrib's <c>delDefaultQuery</c>. ARGV: etag, 0 for none.</summary>
    private const string DeleteScript = """
        local etag = redis.pcall("HGET", KEYS[1], "version");
        if not etag or type(etag)=="table" or etag == ARGV[1] or etag == "" or ARGV[1] == "0" then
          return redis.call("DEL", KEYS[1])
        else
          return error("failed to delete " .. KEYS[1])
        end
        """;

    private static readonly IReadOnlyDictionary<string, string> NoMetadata = new Dictionary<string, string>(StringComparer.Ordinal);

    private readonly ConfigurationOptions _options;
    private readonly int? _defaultTtl;
    private ConnectionMultiplexer? _redis;
    private int _replicas;

    public RedisStateStore(ComponentDefinition component)
    {
        Name = component.Name;
        _options = RedisConnectionMetadata.Read(component);
        _defaultTtl = RedisConnectionMetadata.Integer(component, "ttlInSeconds");
    }

    public string Name { get; }

    public string Type => "state.redis";

    public string Version => "v1";

    public IReadOnlyList<string> Capabilities { get; } = ["ETAG", "TRANSACTIONAL", "TTL"];

    private IDatabase Database => (_redis ?? throw new InvalidOperationException($"state store {Name} is not initialised")).GetDatabase();

    public async Task InitAsync(CancellationToken cancellationToken)
    {
        _redis = await ConnectionMultiplexer.ConnectAsync(_options);
        // contrib counts the replicas once, at init, for WAIT after strong-consistency writes.
        var replication = (string?)await Database.ExecuteAsync("INFO", "replication") ?? "";
        _replicas = replication.Split("\r\n")
            .Where(line => line.StartsWith("connected_slaves:", StringComparison.Ordinal))
            .Select(line => int.Parse(line["connected_slaves:".Length..], CultureInfo.InvariantCulture))
            .FirstOrDefault();
    }

    public async Task<StateItem?> GetAsync(string key, CancellationToken cancellationToken)
    {
        HashEntry[] fields;
        try
        {
            fields = await Database.HashGetAllAsync(key);
        }
        catch (RedisServerException)
        {
            // Dapr before etags stored plain strings; contrib still reads them, without an etag.
            var legacy = await Database.StringGetAsync(key);
            return legacy.IsNull ? null : new StateItem((byte[])legacy!, null, NoMetadata);
        }

        if (fields.Length == 0)
        {
            return null;
        }

        var data = fields.FirstOrDefault(field => field.Name == "data").Value;
        var version = fields.FirstOrDefault(field => field.Name == "version").Value;
        return data.IsNull || version.IsNull
            ? throw new InvalidOperationException("required hash field 'data' or 'version' was not found")
            : new StateItem((byte[])data!, version.ToString(), NoMetadata);
    }

    public async Task<string> SetAsync(SetRequest request, CancellationToken cancellationToken)
    {
        StateMetadata.ValidateOptions(request.Options);
        var version = ParseETag(request);
        var ttl = StateMetadata.TtlInSeconds(request.Metadata) ?? _defaultTtl;
        RedisResult newVersion;
        try
        {
            newVersion = await Database.ScriptEvaluateAsync(SetScript, [request.Key], [version, Encode(request.Value), request.Options.FirstWrite ? 0 : 1]);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            // contrib reports a mismatch only when the request carried an etag. A refused write without one (a key
            // saved earlier with first-write) is a plain error, so daprd answers 500, not the 409 the docs suggest.
            throw string.IsNullOrEmpty(request.ETag)
                ? new InvalidOperationException($"failed to set key {request.Key}: {exception.Message}", exception)
                : new ETagException(ETagErrorKind.Mismatch, exception.Message);
        }

        if (ttl > 0)
        {
            await Database.ExecuteAsync("EXPIRE", request.Key, ttl.Value);
        }
        else if (ttl is not null)
        {
            await Database.ExecuteAsync("PERSIST", request.Key);
        }

        if (request.Options.Consistency == "strong" && _replicas > 0)
        {
            await Database.ExecuteAsync("WAIT", _replicas, 1000);
        }

        return newVersion.ToString();
    }

    public async Task DeleteAsync(DeleteRequest request, CancellationToken cancellationToken)
    {
        StateMetadata.ValidateOptions(request.Options);
        try
        {
            await Database.ScriptEvaluateAsync(DeleteScript, [request.Key], [request.ETag ?? "0"]);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            // contrib wraps every delete failure as a mismatch, a lost connection included (components-contrib#3584).
            throw new ETagException(ETagErrorKind.Mismatch, exception.Message);
        }
    }

    public async Task MultiAsync(IReadOnlyList<StateOperation> operations, CancellationToken cancellationToken)
    {
        var transaction = Database.CreateTransaction();
        var replies = new List<Task<RedisResult>>();
        foreach (var operation in operations)
        {
            switch (operation)
            {
                case SetRequest set:
                    var version = ParseETag(set);
                    var ttl = StateMetadata.TtlInSeconds(set.Metadata) ?? _defaultTtl;
                    // contrib passes no first-write flag inside a transaction, so first-write is not honoured here. EVAL,
                    // not EVALSHA: a NOSCRIPT inside MULTI could not be retried.
                    replies.Add(transaction.ExecuteAsync("EVAL", SetScript, 1, set.Key, version, Encode(set.Value)));
                    if (ttl > 0)
                    {
                        replies.Add(transaction.ExecuteAsync("EXPIRE", set.Key, ttl.Value));
                    }
                    else if (ttl is not null)
                    {
                        replies.Add(transaction.ExecuteAsync("PERSIST", set.Key));
                    }

                    break;
                case DeleteRequest delete:
                    replies.Add(transaction.ExecuteAsync("EVAL", DeleteScript, 1, delete.Key, delete.ETag ?? "0"));
                    break;
            }
        }

        try
        {
            await transaction.ExecuteAsync();
        }
        finally
        {
            // Reading each reply's exception marks it observed; when EXEC itself fails, they all carry its failure.
            replies.ForEach(reply => _ = reply.Exception);
        }

        // Like go-redis's Exec, report the first command that failed; Redis has applied the others.
        if (replies.Find(reply => reply.IsFaulted) is { } failed)
        {
            await failed;
        }
    }

    /// <summary>
    /// contrib's <c>KeysLike</c>: the whole SCAN of the matching keys, sorted (ordinal), and the page at the offset the
    /// token gives; the next page's offset is the token.
    /// </summary>
    public async Task<KeyPage> ListKeysAsync(string prefix, string? continuationToken, uint? pageSize, CancellationToken cancellationToken)
    {
        var start = 0;
        if (!string.IsNullOrEmpty(continuationToken) && !int.TryParse(continuationToken, NumberStyles.None, CultureInfo.InvariantCulture, out start))
        {
            throw new StateRequestException($"invalid continue token: '{continuationToken}' is not an offset");
        }

        var keys = new List<string>();
        var cursor = "0";
        do
        {
            cancellationToken.ThrowIfCancellationRequested();
            var reply = (RedisResult[])(await Database.ExecuteAsync("SCAN", cursor, "MATCH", GlobPrefix(prefix), "COUNT", 1000))!;
            cursor = (string)reply[0]!;
            keys.AddRange(((RedisResult[])reply[1]!).Select(key => (string)key!));
        }
        while (cursor != "0");

        keys.Sort(StringComparer.Ordinal);
        start = Math.Min(start, keys.Count);
        var end = pageSize is > 0 ? (int)Math.Min(keys.Count, start + (long)pageSize.Value) : keys.Count;
        return new KeyPage(keys.GetRange(start, end - start), end < keys.Count ? end.ToString(CultureInfo.InvariantCulture) : null);
    }

    /// <summary>A glob matching the keys that start with <paramref name="prefix"/>, its glob characters escaped.</summary>
    private static string GlobPrefix(string prefix) =>
        string.Concat(prefix.Select(character => character is '*' or '?' or '[' or ']' or '\\' ? $"\\{character}" : character.ToString())) + "*";

    public async ValueTask DisposeAsync()
    {
        if (_redis is not null)
        {
            await _redis.DisposeAsync();
        }
    }

    /// <summary>contrib's <c>utils.Marshal</c> with jsoniter: bytes are stored as given, a decoded value as jsoniter writes it.</summary>
    private static byte[] Encode(StateValue value) => value.Bytes ?? GoJson.JsoniterFastest(value.Json);

    /// <summary>contrib's <c>parseETag</c>: last-write or no etag means 0 (no check); otherwise the etag must be an integer.</summary>
    private static long ParseETag(SetRequest request) =>
        request.Options.Concurrency == "last-write" || string.IsNullOrEmpty(request.ETag) ? 0
        : long.TryParse(request.ETag, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var version) ? version
        : throw new ETagException(ETagErrorKind.Invalid, $"strconv.Atoi: parsing \"{request.ETag}\": invalid syntax");
}
