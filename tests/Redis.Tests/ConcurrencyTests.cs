using System.Diagnostics;
using CloudScale.Testing;

namespace CloudScale.Redis.Tests;

public sealed class ConcurrencyTests(TestServers servers) : RedisTestBase(servers)
{
    /// <summary>Blocks the single-threaded server for about 300 ms, so that commands sent after it queue behind it.</summary>
    private const string SlowScript = "local started = redis.call('TIME') while true do local now = redis.call('TIME') if (now[1] - started[1]) * 1000000 + (now[2] - started[2]) > 300000 then return 'slow' end end";

    [Fact]
    public async Task Ten_thousand_concurrent_increments_on_distinct_keys_each_get_their_own_reply()
    {
        var prefix = Key("incr");

        var results = await Task.WhenAll(Enumerable.Range(0, 100).Select(worker => Task.Run(async () =>
        {
            var replies = new List<(long Expected, long Actual)>(100);
            for (var index = 0; index < 100; index++)
            {
                var amount = (worker * 100) + index + 1;
                replies.Add((amount, await Db.StringIncrementAsync($"{prefix}:{amount}", amount, Cancellation)));
            }

            return replies;
        }, Cancellation)));

        var all = results.SelectMany(replies => replies).ToList();
        Assert.Equal(10_000, all.Count);
        Assert.All(all, reply => Assert.Equal(reply.Expected, reply.Actual));
    }

    [Fact]
    public async Task Ten_thousand_concurrent_sets_and_gets_of_unique_values_each_get_their_own_reply()
    {
        var prefix = Key("setget");

        var mismatches = await Task.WhenAll(Enumerable.Range(0, 10_000).Select(async index =>
        {
            var value = $"{index}:{Guid.NewGuid()}";
            await Db.StringSetAsync($"{prefix}:{index}", value, cancellationToken: Cancellation);
            return (string?)await Db.StringGetAsync($"{prefix}:{index}", Cancellation) == value ? 0 : 1;
        }));

        Assert.Equal(0, mismatches.Sum());
    }

    [Fact]
    public async Task Cancelling_one_command_does_not_shift_the_replies_of_others()
    {
        var key = Key("cancel");
        await Db.StringSetAsync(key, "mine", cancellationToken: Cancellation);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Cancellation);

        var slow = Db.ScriptEvaluateAsync(SlowScript, cancellationToken: cancel.Token);
        var behind = Db.StringGetAsync(key, Cancellation);
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => slow);
        Assert.Equal("mine", (string?)await behind);
        Assert.Equal(1, await Db.StringIncrementAsync(Key("next"), cancellationToken: Cancellation));
    }

    [Fact]
    public async Task A_command_whose_token_is_already_cancelled_is_never_sent()
    {
        var key = Key("never-sent");
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Db.StringSetAsync(key, "x", cancellationToken: cancelled.Token));

        // Replies come in order on the one connection: had the SET gone out, EXISTS would see its key.
        Assert.False(await Db.KeyExistsAsync(key, Cancellation));
    }

    [Fact]
    public async Task A_command_that_times_out_fails_alone_and_the_connection_stays_in_step()
    {
        await using var redis = await ConnectionMultiplexer.ConnectAsync($"{Server.ConnectionString},asyncTimeout=100");
        var db = redis.GetDatabase();
        var key = Key("timeout");
        await db.StringSetAsync(key, "value", cancellationToken: Cancellation);

        var stopwatch = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<RedisTimeoutException>(() => db.ScriptEvaluateAsync(SlowScript, cancellationToken: Cancellation));
        stopwatch.Stop();

        Assert.Contains("EVAL", error.Message, StringComparison.Ordinal);
        Assert.InRange(stopwatch.Elapsed, TimeSpan.FromMilliseconds(90), TimeSpan.FromSeconds(2));
        await Poll.UntilAsync(ReadsItsOwnValueAsync, Deadline);
        Assert.Equal("PONG", (string?)await db.ExecuteAsync("PING", [], Cancellation));

        // Commands sent while the script still runs time out as well; once it is done, each reply is its own again.
        async Task<bool> ReadsItsOwnValueAsync()
        {
            try
            {
                return (string?)await db.StringGetAsync(key, Cancellation) == "value";
            }
            catch (RedisTimeoutException)
            {
                return false;
            }
        }
    }
}
