using System.Collections.Concurrent;
using System.Diagnostics;
using CloudScale.Testing;

namespace CloudScale.Redis.Tests;

/// <summary>Servers of their own, killed and restarted, and fake servers that misbehave.</summary>
public sealed class FailureTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Killing_the_server_mid_load_faults_pending_commands_promptly_and_the_client_recovers_with_its_subscriptions()
    {
        await using var server = await RedisServer.StartNewAsync();
        await using var redis = await ConnectionMultiplexer.ConnectAsync($"{server.ConnectionString},abortConnect=false");
        var db = redis.GetDatabase();
        var received = new ConcurrentQueue<string>();
        await redis.GetSubscriber().SubscribeAsync(RedisChannel.Literal("news"), (_, message) => received.Enqueue($"literal:{message}"), Cancellation);
        await redis.GetSubscriber().SubscribeAsync(RedisChannel.Pattern("new?"), (_, message) => received.Enqueue($"pattern:{message}"), Cancellation);
        var failed = new ConcurrentQueue<string>();
        var restored = new ConcurrentQueue<string>();
        redis.ConnectionFailed += (_, change) => failed.Enqueue($"{change.Role}:{change.Failure?.FailureType}");
        redis.ConnectionRestored += (_, change) => restored.Enqueue(change.Role);
        var completed = 0;
        var load = Enumerable.Range(0, 50).Select(worker => Task.Run(async () =>
        {
            while (true)
            {
                await db.StringIncrementAsync($"load:{worker}", cancellationToken: Cancellation);
                Interlocked.Increment(ref completed);
            }
        }, Cancellation)).ToArray();
        await Poll.UntilAsync(() => Volatile.Read(ref completed) > 2_000, Deadline);

        server.Kill();
        var killed = Stopwatch.StartNew();
        var outcome = await Task.WhenAll(load.Select(async worker => await Record.ExceptionAsync(() => worker))).WaitAsync(TimeSpan.FromSeconds(5), Cancellation);
        killed.Stop();

        Assert.All(outcome, exception => Assert.IsType<RedisConnectionException>(exception));
        Assert.True(killed.Elapsed < TimeSpan.FromSeconds(3), $"pending commands took {killed.Elapsed} to fail");
        Assert.False(redis.IsConnected);
        await Assert.ThrowsAsync<RedisConnectionException>(() => db.PingAsync(Cancellation));

        await server.StartAsync();
        await Poll.UntilAsync(() => redis.IsConnected, Deadline);
        Assert.Equal(1, await db.StringIncrementAsync("after-restart", cancellationToken: Cancellation));
        await Poll.UntilAsync(async () => await redis.GetSubscriber().PublishAsync(RedisChannel.Literal("news"), "back", Cancellation) == 2, Deadline);
        await Poll.UntilAsync(() => received.Count == 2, Deadline);
        Assert.Equal("literal:back,pattern:back", Show.Texts(received.Order(StringComparer.Ordinal)));
        Assert.Contains("interactive:SocketClosed", failed, StringComparer.Ordinal);
        Assert.Contains("subscriber:SocketClosed", failed, StringComparer.Ordinal);
        await Poll.UntilAsync(() => restored.Count == 2, Deadline);
        Assert.Equal("interactive,subscriber", Show.Texts(restored.Order(StringComparer.Ordinal)));
    }

    [Fact]
    public async Task With_abortConnect_false_connect_returns_while_the_server_is_down_and_the_client_connects_once_it_starts()
    {
        await using var server = await RedisServer.StartNewAsync();
        await server.StopAsync();

        await using var redis = await ConnectionMultiplexer.ConnectAsync($"{server.ConnectionString},abortConnect=false");
        var restored = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        redis.ConnectionRestored += (_, change) => restored.TrySetResult(change.Role);

        Assert.False(redis.IsConnected);
        var down = await Assert.ThrowsAsync<RedisConnectionException>(() => redis.GetDatabase().PingAsync(Cancellation));
        Assert.Equal(ConnectionFailureType.UnableToConnect, down.FailureType);

        await server.StartAsync();

        Assert.Equal("interactive", await restored.Task.WaitAsync(Deadline, Cancellation));
        Assert.True(redis.IsConnected);
        Assert.Equal(1, await redis.GetDatabase().StringIncrementAsync("first-write", cancellationToken: Cancellation));
    }

    [Fact]
    public async Task Commands_fail_fast_while_the_server_is_down_and_connect_fails_clearly()
    {
        await using var server = await RedisServer.StartNewAsync();
        await using var redis = await ConnectionMultiplexer.ConnectAsync($"{server.ConnectionString},abortConnect=false");
        await server.StopAsync();
        await Poll.UntilAsync(() => !redis.IsConnected, Deadline);

        var stopwatch = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<RedisConnectionException>(() => redis.GetDatabase().StringGetAsync("k", Cancellation));

        // Far below the 5 s command timeout it would otherwise have waited for.
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(3), $"the failure took {stopwatch.Elapsed}");
        Assert.Contains($"127.0.0.1:{server.Port}", error.Message, StringComparison.Ordinal);
        var connect = await Assert.ThrowsAsync<RedisConnectionException>(() => ConnectionMultiplexer.ConnectAsync(server.ConnectionString));
        Assert.Equal(ConnectionFailureType.UnableToConnect, connect.FailureType);
    }

    [Fact]
    public async Task A_server_that_answers_garbage_yields_a_protocol_error()
    {
        using var listener = new FakeRedisServer(async (stream, token) =>
        {
            await stream.WriteAsync("HTTP/1.1 400 Bad Request\r\n\r\n"u8.ToArray(), token);
            await Task.Delay(Timeout.Infinite, token);
        });

        var error = await Assert.ThrowsAsync<RedisConnectionException>(() => ConnectionMultiplexer.ConnectAsync(listener.ConnectionString))
            .WaitAsync(Deadline, Cancellation);

        Assert.Equal(ConnectionFailureType.ProtocolFailure, error.FailureType);
        Assert.Contains("Protocol error", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Garbage_after_a_good_handshake_faults_the_commands_awaiting_it()
    {
        using var listener = FakeRedisServer.AnsweringFirstCommandWith("\0\xff garbage"u8.ToArray());
        await using var redis = await ConnectionMultiplexer.ConnectAsync(listener.ConnectionString);

        var error = await Assert.ThrowsAsync<RedisConnectionException>(() => redis.GetDatabase().StringGetAsync("k", Cancellation)).WaitAsync(Deadline, Cancellation);

        Assert.Equal(ConnectionFailureType.ProtocolFailure, error.FailureType);
    }

    [Fact]
    public async Task A_server_that_stalls_in_the_middle_of_a_reply_yields_a_timeout()
    {
        using var listener = FakeRedisServer.AnsweringFirstCommandWith("$10\r\nabc"u8.ToArray());
        await using var redis = await ConnectionMultiplexer.ConnectAsync($"{listener.ConnectionString},asyncTimeout=200");
        var stopwatch = Stopwatch.StartNew();

        var error = await Assert.ThrowsAsync<RedisTimeoutException>(() => redis.GetDatabase().StringGetAsync("k", Cancellation)).WaitAsync(Deadline, Cancellation);

        Assert.Contains("GET", error.Message, StringComparison.Ordinal);
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(2), $"the timeout took {stopwatch.Elapsed}");
    }

    [Fact]
    public async Task A_server_that_hangs_up_in_the_middle_of_a_reply_faults_the_command_at_once()
    {
        using var listener = FakeRedisServer.AnsweringFirstCommandWith("$10\r\nabc"u8.ToArray(), thenHangUp: true);
        await using var redis = await ConnectionMultiplexer.ConnectAsync(listener.ConnectionString);
        var stopwatch = Stopwatch.StartNew();

        var error = await Assert.ThrowsAsync<RedisConnectionException>(() => redis.GetDatabase().StringGetAsync("k", Cancellation)).WaitAsync(Deadline, Cancellation);

        Assert.Equal(ConnectionFailureType.SocketClosed, error.FailureType);
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(3), $"the failure took {stopwatch.Elapsed}, as if it had waited for the 5 s command timeout");
    }

    [Fact]
    public async Task A_reply_line_that_never_ends_is_a_protocol_error_not_endless_buffering()
    {
        using var listener = FakeRedisServer.AnsweringFirstCommandWith([.. "+"u8, .. Enumerable.Repeat((byte)'a', 100_000)]);
        await using var redis = await ConnectionMultiplexer.ConnectAsync(listener.ConnectionString);

        var error = await Assert.ThrowsAsync<RedisConnectionException>(() => redis.GetDatabase().StringGetAsync("k", Cancellation)).WaitAsync(Deadline, Cancellation);

        Assert.Equal(ConnectionFailureType.ProtocolFailure, error.FailureType);
        Assert.Contains("no line end", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_reply_that_answers_no_command_drops_the_connection_as_a_protocol_failure()
    {
        using var listener = FakeRedisServer.AnsweringFirstCommandWith("+OK\r\n+OK\r\n"u8.ToArray());
        await using var redis = await ConnectionMultiplexer.ConnectAsync(listener.ConnectionString);
        var failed = new TaskCompletionSource<RedisConnectionException?>(TaskCreationOptions.RunContinuationsAsynchronously);
        redis.ConnectionFailed += (_, change) => failed.TrySetResult(change.Failure);

        Assert.True(await redis.GetDatabase().StringSetAsync("k", "v", cancellationToken: Cancellation));
        var failure = await failed.Task.WaitAsync(Deadline, Cancellation);

        Assert.Equal(ConnectionFailureType.ProtocolFailure, failure?.FailureType);
        Assert.Contains("answers no command", failure?.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Disposing_the_multiplexer_faults_its_pending_commands_and_every_later_call_says_it_is_disposed()
    {
        using var listener = FakeRedisServer.AnsweringOnlyTheHandshake();
        var redis = await ConnectionMultiplexer.ConnectAsync(listener.ConnectionString);
        var db = redis.GetDatabase();
        var pending = db.StringGetAsync("k", Cancellation);

        await redis.DisposeAsync();

        // Bounded, because a connection opened after disposal would wait for ever: the timeout sweep has stopped.
        RedisConnectionException[] failures =
        [
            await Assert.ThrowsAsync<RedisConnectionException>(() => pending).WaitAsync(Deadline, Cancellation),
            await Assert.ThrowsAsync<RedisConnectionException>(() => db.StringGetAsync("k", Cancellation)).WaitAsync(Deadline, Cancellation),
            await Assert.ThrowsAsync<RedisConnectionException>(() => db.StreamReadGroupAsync("s", "g", "c", block: TimeSpan.FromSeconds(1), cancellationToken: Cancellation))
                .WaitAsync(Deadline, Cancellation),
            await Assert.ThrowsAsync<RedisConnectionException>(() => redis.GetSubscriber().SubscribeAsync(RedisChannel.Literal("c"), (_, _) => { }, Cancellation))
                .WaitAsync(Deadline, Cancellation),
        ];
        Assert.All(failures, failure => Assert.Equal(ConnectionFailureType.Disposed, failure.FailureType));
        Assert.Contains("disposed", failures[1].Message, StringComparison.Ordinal);
        Assert.Equal(1, listener.Accepted);
    }

    [Fact]
    public async Task A_server_that_never_answers_yields_timeouts_not_hangs()
    {
        var answersHandshake = 0;
        using var listener = new FakeRedisServer(async (stream, token) =>
        {
            var buffer = new byte[4096];
            _ = await stream.ReadAsync(buffer, token);
            if (Interlocked.Increment(ref answersHandshake) > 1)
            {
                await stream.WriteAsync("+PONG\r\n"u8.ToArray(), token);
            }

            while (await stream.ReadAsync(buffer, token) > 0)
            {
                // Swallows every command without a reply.
            }
        });

        var connect = await Assert.ThrowsAsync<RedisConnectionException>(() =>
            ConnectionMultiplexer.ConnectAsync($"{listener.ConnectionString},connectTimeout=300")).WaitAsync(Deadline, Cancellation);
        Assert.Contains("connect timeout", connect.Message, StringComparison.Ordinal);

        await using var redis = await ConnectionMultiplexer.ConnectAsync($"{listener.ConnectionString},asyncTimeout=200");
        var stopwatch = Stopwatch.StartNew();
        await Assert.ThrowsAsync<RedisTimeoutException>(() => redis.GetDatabase().StringGetAsync("k", Cancellation)).WaitAsync(Deadline, Cancellation);
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(2), $"the timeout took {stopwatch.Elapsed}");
    }
}
