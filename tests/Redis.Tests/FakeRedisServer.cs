using System.Net;
using System.Net.Sockets;

namespace CloudScale.Redis.Tests;

/// <summary>A loopback listener that plays a misbehaving Redis: every connection it accepts runs <c>session</c>.</summary>
internal sealed class FakeRedisServer : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private int _accepted;

    public FakeRedisServer(Func<NetworkStream, CancellationToken, Task> session)
    {
        _listener.Start();
        _ = Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                Interlocked.Increment(ref _accepted);
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

    /// <summary>How many connections clients have opened to it.</summary>
    public int Accepted => Volatile.Read(ref _accepted);

    /// <summary>Answers the handshake, then never says another word: a server that hangs with its sockets open.</summary>
    public static FakeRedisServer AnsweringOnlyTheHandshake() => AnsweringFirstCommandWith([]);

    /// <summary>
    /// Answers the handshake (a bare PING without password, name or database) with PONG, then answers the first command
    /// with <paramref name="reply"/>; afterwards it hangs up or swallows everything without a word.
    /// </summary>
    public static FakeRedisServer AnsweringFirstCommandWith(byte[] reply, bool thenHangUp = false) => new(async (stream, token) =>
    {
        var buffer = new byte[4096];
        _ = await stream.ReadAsync(buffer, token);
        await stream.WriteAsync("+PONG\r\n"u8.ToArray(), token);
        _ = await stream.ReadAsync(buffer, token);
        await stream.WriteAsync(reply, token);
        while (!thenHangUp && await stream.ReadAsync(buffer, token) > 0)
        {
            // Swallows every further command without a reply.
        }
    });

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Dispose();
        _stop.Dispose();
    }
}
