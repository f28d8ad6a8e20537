using System.Buffers;
using System.Buffers.Text;
using System.Text;

namespace CloudScale.Redis.Protocol;

/// <summary>
/// Parses one complete RESP2/RESP3 reply from buffered bytes, or reports that more bytes are needed. It never
/// consumes a partial reply, so the caller can retry from the same position when more data arrives.
/// </summary>
internal static class RespParser
{
    /// <summary>A line longer than this without CRLF is not a Redis reply.</summary>
    private const int MaxLineLength = 64 * 1024;

    public static bool TryParse(ref ReadOnlySequence<byte> buffer, out RedisResult result)
    {
        var reader = new SequenceReader<byte>(buffer);
        if (!TryParse(ref reader, out result))
        {
            return false;
        }

        buffer = buffer.Slice(reader.Position);
        return true;
    }

    private static bool TryParse(ref SequenceReader<byte> reader, out RedisResult result)
    {
        result = RedisResult.Null;
        if (!reader.TryRead(out var prefix))
        {
            return false;
        }

        // Checked before waiting for the line end, so that a peer speaking another protocol fails at once.
        if (!"+-:_#,($!=*~>%|"u8.Contains(prefix))
        {
            throw new RedisProtocolException(
                $"Protocol error: the server sent byte 0x{prefix:X2} ('{(char)prefix}') where a RESP reply type was expected.");
        }

        if (!TryReadLine(ref reader, out var line))
        {
            return false;
        }

        switch (prefix)
        {
            case (byte)'+':
                result = SimpleString(line);
                return true;
            case (byte)'-':
                result = RedisResult.Bytes(RedisResultType.Error, line.ToArray());
                return true;
            case (byte)':':
                result = RedisResult.Number(ParseInteger(line));
                return true;
            case (byte)'_':
                return true;
            case (byte)'#':
                result = line.Length == 1 && line[0] == 't' ? RedisResult.True : RedisResult.False;
                return true;
            case (byte)',':
                result = RedisResult.Number(RespFormat.ParseDouble(Encoding.ASCII.GetString(line)) ?? throw Malformed("double", line));
                return true;
            case (byte)'(':
                result = RedisResult.Bytes(RedisResultType.BigNumber, line.ToArray());
                return true;
            case (byte)'$':
                return TryReadBlob(ref reader, line, RedisResultType.BulkString, out result);
            case (byte)'!':
                return TryReadBlob(ref reader, line, RedisResultType.Error, out result);
            case (byte)'=':
                return TryReadBlob(ref reader, line, RedisResultType.VerbatimString, out result);
            case (byte)'*':
                return TryReadAggregate(ref reader, line, RedisResultType.Array, 1, out result);
            case (byte)'~':
                return TryReadAggregate(ref reader, line, RedisResultType.Set, 1, out result);
            case (byte)'>':
                return TryReadAggregate(ref reader, line, RedisResultType.Push, 1, out result);
            case (byte)'|':
                // Attributes describe the reply that follows them; nothing here uses them, so they are skipped.
                return TryReadAggregate(ref reader, line, RedisResultType.Map, 2, out _) && TryParse(ref reader, out result);
            default: // '%', the only prefix left
                return TryReadAggregate(ref reader, line, RedisResultType.Map, 2, out result);
        }
    }

    private static RedisResult SimpleString(ReadOnlySpan<byte> line) =>
        line.SequenceEqual("OK"u8) ? RedisResult.Ok
        : line.SequenceEqual("QUEUED"u8) ? RedisResult.Queued
        : line.SequenceEqual("PONG"u8) ? RedisResult.Pong
        : RedisResult.Bytes(RedisResultType.SimpleString, line.ToArray());

    private static bool TryReadBlob(ref SequenceReader<byte> reader, scoped ReadOnlySpan<byte> header, RedisResultType type, out RedisResult result)
    {
        result = RedisResult.Null;
        var length = ParseInteger(header);
        if (length < 0)
        {
            return true;
        }

        if (reader.Remaining < length + 2)
        {
            return false;
        }

        var bytes = GC.AllocateUninitializedArray<byte>((int)length);
        reader.UnreadSequence.Slice(0, length).CopyTo(bytes);
        reader.Advance(length);
        if (!reader.IsNext("\r\n"u8, advancePast: true))
        {
            throw new RedisProtocolException("Protocol error: a bulk string is not followed by CRLF.");
        }

        // Verbatim strings start with a three-letter format and a colon ("txt:"), which is not part of the text.
        result = type == RedisResultType.VerbatimString && bytes.Length >= 4
            ? RedisResult.Bytes(type, bytes[4..])
            : RedisResult.Bytes(type, bytes);
        return true;
    }

    private static bool TryReadAggregate(ref SequenceReader<byte> reader, scoped ReadOnlySpan<byte> header, RedisResultType type, int itemsPerEntry, out RedisResult result)
    {
        result = RedisResult.Null;
        var count = ParseInteger(header);
        if (count < 0)
        {
            return true;
        }

        var items = count == 0 ? [] : new RedisResult[count * itemsPerEntry];
        for (var index = 0; index < items.Length; index++)
        {
            if (!TryParse(ref reader, out items[index]))
            {
                return false;
            }
        }

        result = RedisResult.Aggregate(type, items);
        return true;
    }

    private static bool TryReadLine(ref SequenceReader<byte> reader, out ReadOnlySpan<byte> line)
    {
        if (reader.TryReadTo(out line, "\r\n"u8))
        {
            return true;
        }

        if (reader.Remaining > MaxLineLength)
        {
            throw new RedisProtocolException($"Protocol error: no line end within {MaxLineLength} bytes.");
        }

        return false;
    }

    private static long ParseInteger(ReadOnlySpan<byte> line) =>
        Utf8Parser.TryParse(line, out long value, out var consumed) && consumed == line.Length ? value : throw Malformed("integer", line);

    private static RedisProtocolException Malformed(string what, ReadOnlySpan<byte> line) =>
        new($"Protocol error: '{Encoding.ASCII.GetString(line[..Math.Min(line.Length, 40)])}' is not a valid RESP {what}.");
}
