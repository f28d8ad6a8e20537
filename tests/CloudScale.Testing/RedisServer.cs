using System.Net;
using System.Net.Sockets;
using System.Text;
using Aspire.Hosting.Dapr;

namespace CloudScale.Testing;

public sealed record RedisServerOptions
{
    /// <summary>Sets <c>requirepass</c>; clients must AUTH.</summary>
    public string? Password { get; init; }

    /// <summary>Further <c>redis-server</c> arguments, e.g. <c>["--maxmemory", "10mb"]</c>.</summary>
    public IReadOnlyList<string> Arguments { get; init; } = [];
}

/// <summary>
/// A real <c>redis-server</c> on a free loopback port with its own directory. It can be stopped, killed and
/// started again on the same port, which is how tests show what clients do when Redis goes away.
/// </summary>
public sealed class RedisServer : IAsyncDisposable
{
    private static readonly TimeSpan StartDeadline = TimeSpan.FromSeconds(10);
    private static int _instances;
    private readonly RedisServerOptions _options;
    private readonly string _name;
    private readonly string _directory;
    private ServerProcess? _process;

    private RedisServer(RedisServerOptions options)
    {
        _options = options;
        _name = $"redis-{Interlocked.Increment(ref _instances)}";
        _directory = TestServerRoot.Shared.CreateDirectory(_name);
        Port = LoopbackPorts.Free();
    }

    public string Host { get; } = "127.0.0.1";

    public int Port { get; }

    public string? Password => _options.Password;

    /// <summary>In the format Aspire injects and StackExchange.Redis users know: <c>host:port[,password=…]</c>.</summary>
    public string ConnectionString => Password is null ? $"{Host}:{Port}" : $"{Host}:{Port},password={Password}";

    public int? ProcessId => _process?.Id;

    public string LogFile => Path.Combine(_directory, "redis.log");

    public string DataDirectory => _directory;

    public static async Task<RedisServer> StartNewAsync(RedisServerOptions? options = null)
    {
        var server = new RedisServer(options ?? new RedisServerOptions());
        await server.StartAsync();
        return server;
    }

    public async Task StartAsync()
    {
        if (_process is { HasExited: false })
        {
            return;
        }

        var binary = Prerequisites.Find("redis-server", "redis-server");
        string[] arguments =
        [
            "--port", Port.ToString(), "--bind", Host, "--dir", _directory,
            "--save", "", "--appendonly", "no", "--daemonize", "no", "--protected-mode", "yes",
            .. Password is null ? Array.Empty<string>() : ["--requirepass", Password],
            .. _options.Arguments,
        ];
        _process = ServerProcess.Start(_name, LogFile, runAsUser: null, binary, arguments);
        await _process.WaitUntilReadyAsync(PingAsync, StartDeadline, LogFile);
    }

    /// <summary>SIGTERM, as a managed service restart would.</summary>
    public async Task StopAsync()
    {
        if (_process is not null)
        {
            await _process.StopAsync("TERM", TimeSpan.FromSeconds(10));
            _process = null;
        }
    }

    /// <summary>SIGKILL, as a crash would.</summary>
    public void Kill()
    {
        _process?.Kill();
        _process = null;
    }

    public string ReadLog() => ServerProcess.Tail(LogFile, int.MaxValue);

    public async ValueTask DisposeAsync() => await StopAsync();

    /// <summary>A bare RESP PING over a socket, so that readiness does not depend on the client under test.</summary>
    private async Task<bool> PingAsync(CancellationToken cancellationToken)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, Port), cancellationToken);
        await socket.SendAsync("*1\r\n$4\r\nPING\r\n"u8.ToArray(), cancellationToken);
        var buffer = new byte[64];
        var read = await socket.ReceiveAsync(buffer, cancellationToken);
        var reply = Encoding.ASCII.GetString(buffer, 0, read);
        // With requirepass, an unauthenticated PING answers NOAUTH: the server is up all the same.
        return reply.StartsWith("+PONG", StringComparison.Ordinal) || reply.StartsWith("-NOAUTH", StringComparison.Ordinal);
    }
}
