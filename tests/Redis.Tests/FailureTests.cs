using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
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
        await redis.GetSubscriber().SubscribeAsync(RedisChannel.Literal("news"), (_, message) => received.Enqueue(message.ToString()), Cancellation);
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
        await Poll.UntilAsync(async () => await redis.GetSubscriber().PublishAsync(RedisChannel.Literal("news"), "back", Cancellation) == 1, Deadline);
        await Poll.UntilAsync(() => received.Contains("back", StringComparer.Ordinal), Deadline);
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

        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(1));
        Assert.Contains($"127.0.0.1:{server.Port}", error.Message, StringComparison.Ordinal);
        var connect = await Assert.ThrowsAsync<RedisConnectionException>(() => ConnectionMultiplexer.ConnectAsync(server.ConnectionString));
        Assert.Equal(ConnectionFailureType.UnableToConnect, connect.FailureType);
    }

    [Fact]
    public async Task A_server_that_answers_garbage_yields_a_protocol_error()
    {
        using var listener = FakeServer(async (stream, token) =>
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
        using var listener = FakeServer(async (stream, token) =>
        {
            var buffer = new byte[4096];
            _ = await stream.ReadAsync(buffer, token);
            await stream.WriteAsync("+PONG\r\n"u8.ToArray(), token);
            _ = await stream.ReadAsync(buffer, token);
            await stream.WriteAsync("\0\xff garbage"u8.ToArray(), token);
            await Task.Delay(Timeout.Infinite, token);
        });
        await using var redis = await ConnectionMultiplexer.ConnectAsync(listener.ConnectionString);

        var error = await Assert.ThrowsAsync<RedisConnectionException>(() => redis.GetDatabase().StringGetAsync("k", Cancellation)).WaitAsync(Deadline, Cancellation);

        Assert.Equal(ConnectionFailureType.ProtocolFailure, error.FailureType);
    }

    [Fact]
    public async Task A_server_that_never_answers_yields_timeouts_not_hangs()
    {
        var answersHandshake = 0;
        using var listener = FakeServer(async (stream, token) =>
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

    private static FakeRedis FakeServer(Func<NetworkStream, CancellationToken, Task> session) => new(session);

    private sealed class FakeRedis : IDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource _stop = new();

        public FakeRedis(Func<NetworkStream, CancellationToken, Task> session)
        {
            _listener.Start();
            _ = Task.Run(async () =>
            {
                while (!_stop.IsCancellationRequested)
                {
                    var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                    _ = Task.Run(async () =>
                    {
                        using (client)
                        {
                            await Record.ExceptionAsync(() => session(client.GetStream(), _stop.Token));
                        }
                    });
                }
            });
        }

        public string ConnectionString => $"127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";

        public void Dispose()
        {
            _stop.Cancel();
            _listener.Dispose();
            _stop.Dispose();
        }
    }
}
