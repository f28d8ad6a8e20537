using System.Buffers;
using System.Buffers.Text;
using System.Text;

namespace CloudScale.Redis.Protocol;

/// <summary>Writes commands as RESP arrays of bulk strings straight into the connection's output buffer.</summary>
internal static class RespWriter
{
    /// <summary>Values up to this size are formatted in one span; larger ones are copied through in chunks.</summary>
    private const int InlineLimit = 16 * 1024;

    public static void WriteCommand(IBufferWriter<byte> output, string command, ReadOnlySpan<RedisValue> arguments)
    {
        WriteHeader(output, (byte)'*', arguments.Length + 1);
        WriteText(output, command);
        foreach (var argument in arguments)
        {
            WriteArgument(output, argument);
        }
    }

    private static void WriteArgument(IBufferWriter<byte> output, in RedisValue value)
    {
        switch (value.Kind)
        {
            case RedisValueKind.Null:
                WriteBytes(output, []);
                break;
            case RedisValueKind.Bytes:
                WriteBytes(output, value.Memory.Span);
                break;
            case RedisValueKind.Text:
                WriteText(output, value.Text!);
                break;
            case RedisValueKind.Integer:
                WriteInteger(output, value.Integer);
                break;
            default:
                WriteText(output, RespFormat.FormatDouble(value.Double));
                break;
        }
    }

    private static void WriteInteger(IBufferWriter<byte> output, long number)
    {
        Span<byte> digits = stackalloc byte[20];
        Utf8Formatter.TryFormat(number, digits, out var length);
        WriteBytes(output, digits[..length]);
    }

    private static void WriteText(IBufferWriter<byte> output, string text)
    {
        var length = Encoding.UTF8.GetByteCount(text);
        if (length > InlineLimit)
        {
            WriteBytes(output, Encoding.UTF8.GetBytes(text));
            return;
        }

        WriteHeader(output, (byte)'$', length);
        var span = output.GetSpan(length + 2);
        Encoding.UTF8.GetBytes(text, span);
        span[length] = (byte)'\r';
        span[length + 1] = (byte)'\n';
        output.Advance(length + 2);
    }

    private static void WriteBytes(IBufferWriter<byte> output, ReadOnlySpan<byte> bytes)
    {
        WriteHeader(output, (byte)'$', bytes.Length);
        if (bytes.Length > InlineLimit)
        {
            output.Write(bytes);
            output.Write("\r\n"u8);
            return;
        }

        var span = output.GetSpan(bytes.Length + 2);
        bytes.CopyTo(span);
        span[bytes.Length] = (byte)'\r';
        span[bytes.Length + 1] = (byte)'\n';
        output.Advance(bytes.Length + 2);
    }

    private static void WriteHeader(IBufferWriter<byte> output, byte prefix, int count)
    {
        var span = output.GetSpan(16);
        span[0] = prefix;
        Utf8Formatter.TryFormat(count, span[1..], out var length);
        span[length + 1] = (byte)'\r';
        span[length + 2] = (byte)'\n';
        output.Advance(length + 3);
    }
}
