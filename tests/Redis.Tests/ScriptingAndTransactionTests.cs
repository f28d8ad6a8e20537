using CloudScale.Testing;

namespace CloudScale.Redis.Tests;

public sealed class ScriptingAndTransactionTests(TestServers servers) : RedisTestBase(servers)
{
    [Fact]
    public async Task A_script_the_server_has_not_seen_falls_back_from_evalsha_to_eval_and_is_cached()
    {
        var key = Key("script");
        var script = LuaScript.Prepare($"-- {Guid.NewGuid()}\nreturn redis.call('INCRBY', KEYS[1], ARGV[1])");

        Assert.Equal(0, (long)(await Db.ExecuteAsync("SCRIPT", ["EXISTS", script.Sha1], Cancellation))[0]);
        Assert.Equal(5, (long)await script.EvaluateAsync(Db, [key], [5], Cancellation));

        Assert.Equal(1, (long)(await Db.ExecuteAsync("SCRIPT", ["EXISTS", script.Sha1], Cancellation))[0]);
        Assert.Equal(12, (long)await Db.ScriptEvaluateAsync(script.Text, [key], [7], Cancellation));
    }

    [Fact]
    public async Task Script_load_returns_the_sha1_evalsha_uses()
    {
        var text = $"-- {Guid.NewGuid()}\nreturn {{KEYS[1], ARGV[1]}}";

        var sha = await Db.ScriptLoadAsync(text, Cancellation);
        var reply = await Db.ScriptEvaluateAsync(text, ["k"], ["v"], Cancellation);

        Assert.Equal(LuaScript.Prepare(text).Sha1, sha);
        Assert.Equal("k,v", Show.Values(reply.ToRedisValueArray()));
    }

    [Fact]
    public async Task A_lua_error_surfaces_with_the_servers_message()
    {
        var error = await Assert.ThrowsAsync<RedisServerException>(() =>
            Db.ScriptEvaluateAsync("return redis.error_reply('stock exhausted for sku 42')", cancellationToken: Cancellation));
        var runtime = await Assert.ThrowsAsync<RedisServerException>(() =>
            Db.ScriptEvaluateAsync("return redis.call('NOSUCHCOMMAND')", cancellationToken: Cancellation));

        Assert.Contains("stock exhausted for sku 42", error.Message, StringComparison.Ordinal);
        Assert.Contains("Unknown Redis command", runtime.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Multi_exec_runs_the_queued_commands_and_completes_their_tasks()
    {
        var counter = Key("tx-counter");
        var flag = Key("tx-flag");
        var transaction = Db.CreateTransaction();

        var incremented = transaction.StringIncrementAsync(counter, 5);
        var set = transaction.StringSetAsync(flag, "on");
        var raw = transaction.ExecuteAsync("GET", flag);

        Assert.True(await transaction.ExecuteAsync(Cancellation));
        Assert.Equal(5, await incremented);
        Assert.True(await set);
        Assert.Equal("on", (string?)await raw);
    }

    [Fact]
    public async Task Exec_aborts_and_returns_false_when_a_watched_key_changed()
    {
        var balance = Key("balance");
        await Db.StringSetAsync(balance, 100, cancellationToken: Cancellation);
        await using var transaction = Db.CreateTransaction();
        await transaction.WatchAsync([balance], Cancellation);
        var seen = (long)await Db.StringGetAsync(balance, Cancellation);

        await Db.StringIncrementAsync(balance, 1, Cancellation);
        var write = transaction.StringSetAsync(balance, seen - 10);

        Assert.False(await transaction.ExecuteAsync(Cancellation));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => write);
        Assert.Equal(101, (long)await Db.StringGetAsync(balance, Cancellation));
    }

    [Fact]
    public async Task Exec_commits_when_the_watched_key_did_not_change()
    {
        var balance = Key("balance");
        await Db.StringSetAsync(balance, 100, cancellationToken: Cancellation);
        await using var transaction = Db.CreateTransaction();
        await transaction.WatchAsync([balance], Cancellation);
        var seen = (long)await Db.StringGetAsync(balance, Cancellation);

        var write = transaction.StringSetAsync(balance, seen - 10);

        Assert.True(await transaction.ExecuteAsync(Cancellation));
        Assert.True(await write);
        Assert.Equal(90, (long)await Db.StringGetAsync(balance, Cancellation));
    }

    [Fact]
    public async Task A_command_that_fails_inside_exec_faults_only_its_own_task()
    {
        var hash = Key("tx-hash");
        var counter = Key("tx-counter");
        await Db.HashSetAsync(hash, "field", "value", Cancellation);
        var transaction = Db.CreateTransaction();

        var wrongType = transaction.StringIncrementAsync(hash);
        var counted = transaction.StringIncrementAsync(counter, 2);

        Assert.True(await transaction.ExecuteAsync(Cancellation));
        var error = await Assert.ThrowsAsync<RedisServerException>(() => wrongType);
        Assert.StartsWith("WRONGTYPE", error.Message, StringComparison.Ordinal);
        Assert.Equal(2, await counted);
    }

    [Fact]
    public async Task A_command_rejected_while_queued_aborts_exec_with_the_servers_message()
    {
        var transaction = Db.CreateTransaction();
        var bad = transaction.ExecuteAsync("SET", Key("only-key"));

        var error = await Assert.ThrowsAsync<RedisServerException>(() => transaction.ExecuteAsync(Cancellation));

        Assert.StartsWith("EXECABORT", error.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<RedisServerException>(() => bad);
        Assert.True(await Db.PingAsync(Cancellation) >= TimeSpan.Zero);
    }
}
