using System.Text;

namespace CloudScale.Redis;

/// <summary>The RESP2 and RESP3 reply types.</summary>
public enum RedisResultType
{
    Null,
    SimpleString,
    Error,
    Integer,
    BulkString,
    Array,
    Boolean,
    Double,
    BigNumber,
    VerbatimString,
    Map,
    Set,
    Push,
}

/// <summary>
/// One reply as Redis sent it. Maps (RESP3 <c>%</c>) are kept as their flattened key, value, key, value… items, which is
/// also how RESP2 sends the same replies, so readers of HGETALL or XINFO handle both protocols with one code path.
/// </summary>
public sealed class RedisResult
{
    private static readonly RedisResult[] SmallIntegers = [.. Enumerable.Range(-1, 130).Select(number => new RedisResult(RedisResultType.Integer, number))];

    private readonly byte[]? _bytes;
    private readonly RedisResult[]? _items;
    private readonly long _integer;
    private readonly double _double;

    private RedisResult(RedisResultType type, byte[]? bytes = null, RedisResult[]? items = null)
    {
        Type = type;
        _bytes = bytes;
        _items = items;
    }

    private RedisResult(RedisResultType type, long integer)
    {
        Type = type;
        _integer = integer;
    }

    private RedisResult(double value)
    {
        Type = RedisResultType.Double;
        _double = value;
    }

    public static RedisResult Null { get; } = new(RedisResultType.Null);

    internal static RedisResult Ok { get; } = new(RedisResultType.SimpleString, "OK"u8.ToArray());

    internal static RedisResult Queued { get; } = new(RedisResultType.SimpleString, "QUEUED"u8.ToArray());

    internal static RedisResult Pong { get; } = new(RedisResultType.SimpleString, "PONG"u8.ToArray());

    internal static RedisResult True { get; } = new(RedisResultType.Boolean, 1);

    internal static RedisResult False { get; } = new(RedisResultType.Boolean, 0);

    public RedisResultType Type { get; }

    public bool IsNull => Type == RedisResultType.Null;

    /// <summary>Arrays, sets, maps and pushes have items; everything else has none.</summary>
    public IReadOnlyList<RedisResult> Items => _items ?? [];

    public int Length => _items?.Length ?? 0;

    public RedisResult this[int index] => (_items ?? throw new InvalidCastException($"A {Type} reply has no items."))[index];

    internal static RedisResult Bytes(RedisResultType type, byte[] bytes) => new(type, bytes);

    internal static RedisResult Aggregate(RedisResultType type, RedisResult[] items) => new(type, items: items);

    internal static RedisResult Number(long value) =>
        value is >= -1 and < 129 ? SmallIntegers[value + 1] : new RedisResult(RedisResultType.Integer, value);

    internal static RedisResult Number(double value) => new(value);

    public RedisValue ToRedisValue() => Type switch
    {
        RedisResultType.Null => RedisValue.Null,
        RedisResultType.Integer or RedisResultType.Boolean => _integer,
        RedisResultType.Double => _double,
        _ when _bytes is not null => _bytes,
        _ => throw new InvalidCastException($"A {Type} reply is not a single value."),
    };

    public RedisValue[] ToRedisValueArray() => _items is null
        ? IsNull ? [] : throw new InvalidCastException($"A {Type} reply is not an array.")
        : Array.ConvertAll(_items, item => item.ToRedisValue());

    public static explicit operator string?(RedisResult result) => result.IsNull ? null : result.ToString();

    public static explicit operator long(RedisResult result) => (long)result.ToRedisValue();

    public static explicit operator long?(RedisResult result) => result.IsNull ? null : (long)result.ToRedisValue();

    public static explicit operator double(RedisResult result) => (double)result.ToRedisValue();

    public static explicit operator bool(RedisResult result) => (bool)result.ToRedisValue();

    public static explicit operator byte[]?(RedisResult result) => result.IsNull ? null : result.ToRedisValue().ToArray();

    public static explicit operator RedisValue(RedisResult result) => result.ToRedisValue();

    public static explicit operator RedisResult[](RedisResult result) => result._items ?? [];

    public override string ToString() => Type switch
    {
        RedisResultType.Null => "",
        RedisResultType.Integer => _integer.ToString(System.Globalization.CultureInfo.InvariantCulture),
        RedisResultType.Boolean => _integer != 0 ? "true" : "false",
        RedisResultType.Double => RespFormat.FormatDouble(_double),
        _ when _bytes is not null => Encoding.UTF8.GetString(_bytes),
        _ => $"{Type} of {Length}",
    };

    /// <summary>Flattened pairs (RESP2 array or RESP3 map) read into a dictionary keyed by text.</summary>
    internal Dictionary<string, RedisResult> ToPairs()
    {
        var pairs = new Dictionary<string, RedisResult>(Length / 2, StringComparer.Ordinal);
        for (var index = 0; index + 1 < Length; index += 2)
        {
            pairs[this[index].ToString()] = this[index + 1];
        }

        return pairs;
    }
}
