using System.Buffers.Text;
using System.Globalization;
using System.Text;

namespace CloudScale.Redis;

/// <summary>
/// A binary-safe Redis value: null, bytes, text or a number, as StackExchange.Redis's <c>RedisValue</c>. Text and numbers
/// are kept as they are and encoded only when written to the socket, so building a command does not copy.
/// </summary>
public readonly struct RedisValue : IEquatable<RedisValue>
{
    private readonly object? _reference;
    private readonly ReadOnlyMemory<byte> _memory;
    private readonly long _integer;
    private readonly RedisValueKind _kind;

    private RedisValue(RedisValueKind kind, object? reference, ReadOnlyMemory<byte> memory, long integer)
    {
        _kind = kind;
        _reference = reference;
        _memory = memory;
        _integer = integer;
    }

    public static RedisValue Null => default;

    public static RedisValue EmptyString { get; } = new(RedisValueKind.Bytes, null, ReadOnlyMemory<byte>.Empty, 0);

    public bool IsNull => _kind == RedisValueKind.Null;

    public bool IsInteger => _kind == RedisValueKind.Integer;

    internal RedisValueKind Kind => _kind;

    internal string? Text => _reference as string;

    internal ReadOnlyMemory<byte> Memory => _memory;

    internal long Integer => _integer;

    internal double Double => BitConverter.Int64BitsToDouble(_integer);

    public static RedisValue FromBytes(ReadOnlyMemory<byte> bytes) => new(RedisValueKind.Bytes, null, bytes, 0);

    public static implicit operator RedisValue(string? text) => text is null ? Null : new(RedisValueKind.Text, text, default, 0);

    public static implicit operator RedisValue(byte[]? bytes) => bytes is null ? Null : new(RedisValueKind.Bytes, null, bytes, 0);

    public static implicit operator RedisValue(ReadOnlyMemory<byte> bytes) => FromBytes(bytes);

    public static implicit operator RedisValue(long number) => new(RedisValueKind.Integer, null, default, number);

    public static implicit operator RedisValue(int number) => new(RedisValueKind.Integer, null, default, number);

    public static implicit operator RedisValue(double number) => new(RedisValueKind.Double, null, default, BitConverter.DoubleToInt64Bits(number));

    public static implicit operator RedisValue(bool value) => new(RedisValueKind.Integer, null, default, value ? 1 : 0);

    public static explicit operator string?(RedisValue value) => value.IsNull ? null : value.ToString();

    public static explicit operator byte[]?(RedisValue value) => value.ToArray();

    public static explicit operator long(RedisValue value) => value.ToInt64();

    public static explicit operator long?(RedisValue value) => value.IsNull ? null : value.ToInt64();

    public static explicit operator int(RedisValue value) => checked((int)value.ToInt64());

    public static explicit operator double(RedisValue value) => value.ToDouble();

    public static explicit operator double?(RedisValue value) => value.IsNull ? null : value.ToDouble();

    public static explicit operator bool(RedisValue value) => value.ToInt64() != 0;

    public static bool operator ==(RedisValue left, RedisValue right) => left.Equals(right);

    public static bool operator !=(RedisValue left, RedisValue right) => !left.Equals(right);

    /// <summary>The value's bytes as Redis stores them; null for <see cref="Null"/>.</summary>
    public byte[]? ToArray() => _kind switch
    {
        RedisValueKind.Null => null,
        RedisValueKind.Bytes => _memory.ToArray(),
        RedisValueKind.Text => Encoding.UTF8.GetBytes((string)_reference!),
        _ => Encoding.ASCII.GetBytes(ToString()),
    };

    /// <summary>The value's bytes without copying when it already is bytes.</summary>
    public ReadOnlyMemory<byte> AsMemory() => _kind == RedisValueKind.Bytes ? _memory : ToArray();

    public long ToInt64() => _kind switch
    {
        RedisValueKind.Integer => _integer,
        RedisValueKind.Double when Double == Math.Truncate(Double) => (long)Double,
        RedisValueKind.Bytes when Utf8Parser.TryParse(_memory.Span, out long parsed, out var consumed) && consumed == _memory.Length => parsed,
        RedisValueKind.Text when long.TryParse((string)_reference!, NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed) => parsed,
        _ => throw new InvalidCastException($"The Redis value '{this}' is not an integer."),
    };

    public double ToDouble() => _kind switch
    {
        RedisValueKind.Integer => _integer,
        RedisValueKind.Double => Double,
        _ => RespFormat.ParseDouble(ToString()) ?? throw new InvalidCastException($"The Redis value '{this}' is not a number."),
    };

    public override string ToString() => _kind switch
    {
        RedisValueKind.Null => "",
        RedisValueKind.Text => (string)_reference!,
        RedisValueKind.Bytes => Encoding.UTF8.GetString(_memory.Span),
        RedisValueKind.Integer => _integer.ToString(CultureInfo.InvariantCulture),
        _ => RespFormat.FormatDouble(Double),
    };

    public bool Equals(RedisValue other)
    {
        if (IsNull || other.IsNull)
        {
            return IsNull == other.IsNull;
        }

        if (_kind == RedisValueKind.Integer && other._kind == RedisValueKind.Integer)
        {
            return _integer == other._integer;
        }

        return AsMemory().Span.SequenceEqual(other.AsMemory().Span);
    }

    public override bool Equals(object? obj) => obj is RedisValue other && Equals(other);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.AddBytes(AsMemory().Span);
        return hash.ToHashCode();
    }
}

internal enum RedisValueKind : byte
{
    Null,
    Bytes,
    Text,
    Integer,
    Double,
}

/// <summary>A key: binary-safe, usually text. Kept distinct from values so that signatures say which is which.</summary>
public readonly struct RedisKey : IEquatable<RedisKey>
{
    private readonly RedisValue _value;

    private RedisKey(RedisValue value) => _value = value;

    public static implicit operator RedisKey(string key) => new(key);

    public static implicit operator RedisKey(byte[] key) => new(key);

    public static implicit operator RedisValue(RedisKey key) => key._value;

    public static bool operator ==(RedisKey left, RedisKey right) => left.Equals(right);

    public static bool operator !=(RedisKey left, RedisKey right) => !left.Equals(right);

    public static RedisKey FromBytes(ReadOnlyMemory<byte> key) => new(RedisValue.FromBytes(key));

    public RedisValue ToRedisValue() => _value;

    public override string ToString() => _value.ToString();

    public bool Equals(RedisKey other) => _value.Equals(other._value);

    public override bool Equals(object? obj) => obj is RedisKey other && Equals(other);

    public override int GetHashCode() => _value.GetHashCode();
}

/// <summary>A pub/sub channel name, or a glob pattern for PSUBSCRIBE.</summary>
public readonly record struct RedisChannel(string Name, bool IsPattern)
{
    public static RedisChannel Literal(string name) => new(name, false);

    public static RedisChannel Pattern(string pattern) => new(pattern, true);

    public override string ToString() => Name;
}

internal static class RespFormat
{
    public static string FormatDouble(double value) => value switch
    {
        double.PositiveInfinity => "+inf",
        double.NegativeInfinity => "-inf",
        _ => value.ToString("R", CultureInfo.InvariantCulture),
    };

    public static double? ParseDouble(string text) => text.ToLowerInvariant() switch
    {
        "inf" or "+inf" => double.PositiveInfinity,
        "-inf" => double.NegativeInfinity,
        "nan" => double.NaN,
        _ => double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) ? parsed : null,
    };
}
