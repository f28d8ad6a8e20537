using System.Text;
using CloudScale.Testing;

namespace CloudScale.Redis.Tests;

public sealed class StringAndKeyCommandTests(TestServers servers) : RedisTestBase(servers)
{
    [Fact]
    public async Task Get_returns_what_set_wrote_and_null_for_a_missing_key()
    {
        var key = Key("string");

        Assert.True(await Db.StringSetAsync(key, "hello", cancellationToken: Cancellation));

        Assert.Equal("hello", (string?)await Db.StringGetAsync(key, Cancellation));
        Assert.True((await Db.StringGetAsync(Key("missing"), Cancellation)).IsNull);
    }

    [Fact]
    public async Task Set_with_whole_seconds_uses_EX_and_otherwise_PX()
    {
        var seconds = Key("ex");
        var milliseconds = Key("px");

        await Db.StringSetAsync(seconds, "v", TimeSpan.FromSeconds(100), cancellationToken: Cancellation);
        await Db.StringSetAsync(milliseconds, "v", TimeSpan.FromMilliseconds(50_500), cancellationToken: Cancellation);

        Assert.InRange((long)await Db.ExecuteAsync("TTL", [seconds], Cancellation), 98, 100);
        Assert.InRange((long)await Db.ExecuteAsync("PTTL", [milliseconds], Cancellation), 49_000, 50_500);
    }

    [Fact]
    public async Task Set_NX_and_XX_write_only_when_allowed()
    {
        var key = Key("nx");

        Assert.False(await Db.StringSetAsync(key, "a", when: When.Exists, cancellationToken: Cancellation));
        Assert.True(await Db.StringSetAsync(key, "b", when: When.NotExists, cancellationToken: Cancellation));
        Assert.False(await Db.StringSetAsync(key, "c", when: When.NotExists, cancellationToken: Cancellation));
        Assert.True(await Db.StringSetAsync(key, "d", when: When.Exists, cancellationToken: Cancellation));

        Assert.Equal("d", (string?)await Db.StringGetAsync(key, Cancellation));
    }

    [Fact]
    public async Task Set_KEEPTTL_keeps_the_expiry_and_SET_GET_returns_the_previous_value()
    {
        var key = Key("keepttl");
        await Db.StringSetAsync(key, "old", TimeSpan.FromSeconds(100), cancellationToken: Cancellation);

        var previous = await Db.StringSetAndGetAsync(key, "new", keepTtl: true, cancellationToken: Cancellation);

        Assert.Equal("old", (string?)previous);
        Assert.Equal("new", (string?)await Db.StringGetAsync(key, Cancellation));
        Assert.NotNull(await Db.KeyTimeToLiveAsync(key, Cancellation));
    }

    [Fact]
    public async Task Mget_returns_values_in_key_order_with_nulls_for_missing_keys()
    {
        var first = Key("mget");
        var second = Key("mget");
        await Db.StringSetAsync(first, "1", cancellationToken: Cancellation);
        await Db.StringSetAsync(second, "2", cancellationToken: Cancellation);

        var values = await Db.StringGetAsync([first, Key("missing"), second], Cancellation);

        Assert.Equal("1,(nil),2", Show.Values(values));
    }

    [Fact]
    public async Task Incr_and_incrby_count()
    {
        var key = Key("counter");

        Assert.Equal(1, await Db.StringIncrementAsync(key, cancellationToken: Cancellation));
        Assert.Equal(11, await Db.StringIncrementAsync(key, 10, Cancellation));
        Assert.Equal(8, await Db.StringIncrementAsync(key, -3, Cancellation));
    }

    [Fact]
    public async Task Del_unlink_and_exists()
    {
        var keys = Enumerable.Range(0, 5).Select(_ => (RedisKey)Key("del")).ToArray();
        foreach (var key in keys)
        {
            await Db.StringSetAsync(key, "x", cancellationToken: Cancellation);
        }

        Assert.True(await Db.KeyExistsAsync(keys[0], Cancellation));
        Assert.Equal(5, await Db.KeyExistsAsync(keys, Cancellation));
        Assert.True(await Db.KeyDeleteAsync(keys[0], Cancellation));
        Assert.False(await Db.KeyDeleteAsync(keys[0], Cancellation));
        Assert.Equal(2, await Db.KeyDeleteAsync(keys[1..3], Cancellation));
        Assert.Equal(2, await Db.KeyUnlinkAsync(keys, Cancellation));
        Assert.Equal(0, await Db.KeyExistsAsync(keys, Cancellation));
    }

    [Fact]
    public async Task Expire_pexpire_ttl_and_pttl()
    {
        var key = Key("expire");
        await Db.StringSetAsync(key, "x", cancellationToken: Cancellation);
        Assert.Null(await Db.KeyTimeToLiveAsync(key, Cancellation));

        Assert.True(await Db.KeyExpireAsync(key, TimeSpan.FromSeconds(50), Cancellation));
        Assert.InRange((long)await Db.ExecuteAsync("TTL", [key], Cancellation), 48, 50);

        Assert.True(await Db.KeyExpireAsync(key, TimeSpan.FromMilliseconds(20_250), Cancellation));
        Assert.InRange(await Db.KeyTimeToLiveAsync(key, Cancellation) ?? TimeSpan.Zero, TimeSpan.FromSeconds(19), TimeSpan.FromMilliseconds(20_250));

        Assert.False(await Db.KeyExpireAsync(Key("missing"), TimeSpan.FromSeconds(1), Cancellation));
    }

    [Fact]
    public async Task Arbitrary_binary_bytes_round_trip()
    {
        var key = Key("binary");
        var bytes = Enumerable.Range(0, 256).Select(value => (byte)value).Concat("\r\n\r\n$-1\r\n*2\r\n"u8.ToArray()).ToArray();

        await Db.StringSetAsync(key, bytes, cancellationToken: Cancellation);

        Assert.Equal(bytes, (byte[]?)await Db.StringGetAsync(key, Cancellation));
        Assert.True(await Db.StringSetAsync(Key("empty"), Array.Empty<byte>(), cancellationToken: Cancellation));
    }

    [Fact]
    public async Task A_10_MB_value_round_trips()
    {
        var key = Key("large");
        var value = new byte[10 * 1024 * 1024];
        new Random(42).NextBytes(value);

        await Db.StringSetAsync(key, value, cancellationToken: Cancellation);
        var read = (byte[]?)await Db.StringGetAsync(key, Cancellation);

        Assert.True(value.AsSpan().SequenceEqual(read));
        await Db.KeyDeleteAsync(key, Cancellation);
    }

    [Fact]
    public async Task Unicode_text_round_trips_as_utf8()
    {
        var key = Key("text");

        await Db.StringSetAsync(key, "Grüße, 世界 🚀", cancellationToken: Cancellation);

        Assert.Equal(Encoding.UTF8.GetBytes("Grüße, 世界 🚀"), (byte[]?)await Db.StringGetAsync(key, Cancellation));
    }

    [Fact]
    public async Task Scan_enumerates_every_matching_key_in_pages()
    {
        var prefix = Key("scan");
        var written = Enumerable.Range(0, 300).Select(index => $"{prefix}:{index}").ToHashSet(StringComparer.Ordinal);
        await Task.WhenAll(written.Select(key => Db.StringSetAsync(key, "x", cancellationToken: Cancellation)));

        var found = new HashSet<string>(StringComparer.Ordinal);
        await foreach (var key in Db.ScanAsync($"{prefix}:*", pageSize: 50, Cancellation))
        {
            found.Add(key.ToString());
        }

        Assert.Equal(written, found);
    }

    [Fact]
    public async Task Scan_rejects_a_page_size_below_one_before_sending_anything()
    {
        await using var keys = Db.ScanAsync(pageSize: 0, cancellationToken: Cancellation).GetAsyncEnumerator(Cancellation);

        var error = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await keys.MoveNextAsync());

        Assert.Equal("pageSize", error.ParamName);
    }

    [Fact]
    public async Task Ping_info_and_raw_commands()
    {
        var key = Key("raw");

        Assert.True(await Db.PingAsync(Cancellation) < TimeSpan.FromSeconds(5));
        Assert.Contains("redis_version:", await Db.InfoAsync("server", Cancellation), StringComparison.Ordinal);
        Assert.Equal(5, (long)await Db.ExecuteAsync("APPEND", [key, "hello"], Cancellation));
        Assert.Equal("hello", (string?)await Db.ExecuteAsync("GETRANGE", [key, 0, -1], Cancellation));
        Assert.Equal(RedisResultType.Array, (await Db.ExecuteAsync("COMMAND", ["INFO", "GET"], Cancellation)).Type);
    }

    [Fact]
    public async Task An_error_reply_throws_with_the_servers_message_and_the_connection_goes_on()
    {
        var key = Key("wrongtype");
        await Db.HashSetAsync(key, "field", "value", Cancellation);

        var error = await Assert.ThrowsAsync<RedisServerException>(() => Db.StringIncrementAsync(key, cancellationToken: Cancellation));

        Assert.StartsWith("WRONGTYPE", error.Message, StringComparison.Ordinal);
        Assert.Equal("value", (string?)await Db.HashGetAsync(key, "field", Cancellation));
    }
}
