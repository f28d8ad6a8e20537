using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Threading.Channels;
using CloudScale.Redis.Protocol;

namespace CloudScale.Redis.Connections;

/// <summary>
/// One socket to Redis. Callers enqueue commands without locks; a single writer drains the queue into the socket and
/// flushes once per batch (pipelining), a single reader parses replies and completes the commands in FIFO order.
/// When the socket fails, every queued and in-flight command fails at once with <see cref="RedisConnectionException"/>.
/// </summary>
internal sealed class PhysicalConnection : IAsyncDisposable
{
    private static readonly UnboundedChannelOptions QueueOptions = new() { SingleReader = true, AllowSynchronousContinuations = false };

    private readonly Stream _stream;
    private readonly PipeReader _input;
    private readonly PipeWriter _output;
    private readonly Channel<object> _outgoing = Channel.CreateUnbounded<object>(QueueOptions);
    private readonly ConcurrentQueue<PendingCommand> _awaitingReply = new();
    private readonly Func<RedisResult, bool> _tryHandleOutOfBand;
    private readonly Action<PhysicalConnection, RedisConnectionException> _failed;
    private RedisConnectionException? _failure;
    private Task _loops = Task.CompletedTask;

    private PhysicalConnection(
        Stream stream, string endPoint, Func<RedisResult, bool> tryHandleOutOfBand, Action<PhysicalConnection, RedisConnectionException> failed)
    {
        _stream = stream;
        EndPoint = endPoint;
        _input = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 64 * 1024, minimumReadSize: 4096, leaveOpen: true));
        _output = PipeWriter.Create(stream, new StreamPipeWriterOptions(minimumBufferSize: 64 * 1024, leaveOpen: true));
        _tryHandleOutOfBand = tryHandleOutOfBand;
        _failed = failed;
    }

    public string EndPoint { get; }

    public RedisConnectionException? Failure => Volatile.Read(ref _failure);

    public bool IsConnected => Failure is null;

    public int AwaitingReplies => _awaitingReply.Count;

    /// <summary>
    /// Opens the socket (and TLS), starts the reader and writer, and runs the handshake (HELLO/AUTH, CLIENT SETNAME,
    /// SELECT, PING) pipelined in one round trip, all within the connect timeout.
    /// </summary>
    /// <param name="tryHandleOutOfBand">Sees every reply first and returns true for those that answer no command (pub/sub messages, RESP3 pushes).</param>
    public static async Task<PhysicalConnection> ConnectAsync(
        ConfigurationOptions options,
        bool selectDatabase,
        Func<RedisResult, bool> tryHandleOutOfBand,
        Action<PhysicalConnection, RedisConnectionException> failed,
        CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.ConnectTimeout);
        Stream? stream = null;
        try
        {
            stream = await OpenStreamAsync(options, timeout.Token);
            var connection = new PhysicalConnection(stream, options.EndPoint, tryHandleOutOfBand, failed);
            connection.Start();
            try
            {
                await connection.HandshakeAsync(options, selectDatabase, timeout.Token);
                return connection;
            }
            catch
            {
                await connection.DisposeAsync();
                throw;
            }
        }
        catch (Exception exception) when (exception is SocketException or IOException or OperationCanceledException or AuthenticationException or RedisException)
        {
            if (stream is not null)
            {
                await stream.DisposeAsync();
            }

            if (exception is OperationCanceledException && cancellationToken.IsCancellationRequested)
            {
                throw;
            }

            throw ConnectFailure(options, exception, cancellationToken);
        }
    }

    public bool TryEnqueue(PendingCommand command) => _outgoing.Writer.TryWrite(command);

    /// <summary>Enqueues commands that must reach the socket back to back, such as MULTI … EXEC.</summary>
    public bool TryEnqueue(PendingCommand[] commands) => _outgoing.Writer.TryWrite(commands);

    /// <summary>Fails the commands whose deadline has passed; their replies are still consumed when they arrive.</summary>
    public void TimeOutExpired(long now)
    {
        if (_awaitingReply.IsEmpty)
        {
            return;
        }

        foreach (var command in _awaitingReply)
        {
            if (now > command.Deadline && !command.Task.IsCompleted)
            {
                command.TimeOut(_awaitingReply.Count);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        Fail(new RedisConnectionException(ConnectionFailureType.Disposed, $"The connection to {EndPoint} was closed by the client."));
        await _loops;
    }

    private static async Task<Stream> OpenStreamAsync(ConfigurationOptions options, CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            if (options.KeepAlive > TimeSpan.Zero)
            {
                socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
                socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveTime, (int)options.KeepAlive.TotalSeconds);
            }

            await socket.ConnectAsync(options.Host, options.Port, cancellationToken);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        var network = new NetworkStream(socket, ownsSocket: true);
        if (!options.Ssl)
        {
            return network;
        }

        var tls = new SslStream(network, leaveInnerStreamOpen: false);
        try
        {
            await tls.AuthenticateAsClientAsync(
                new SslClientAuthenticationOptions
                {
                    TargetHost = options.SslHost ?? options.Host,
                    RemoteCertificateValidationCallback = options.CertificateValidation,
                },
                cancellationToken);
            return tls;
        }
        catch
        {
            await tls.DisposeAsync();
            throw;
        }
    }

    private static RedisConnectionException ConnectFailure(ConfigurationOptions options, Exception exception, CancellationToken cancellationToken)
    {
        var (type, reason) = exception switch
        {
            RedisServerException server when server.Message.StartsWith("WRONGPASS", StringComparison.Ordinal)
                || server.Message.StartsWith("NOAUTH", StringComparison.Ordinal)
                || server.Message.Contains("AUTH", StringComparison.Ordinal) => (ConnectionFailureType.AuthenticationFailure, server.Message),
            RedisConnectionException connection => (connection.FailureType, connection.Message),
            OperationCanceledException when !cancellationToken.IsCancellationRequested =>
                (ConnectionFailureType.UnableToConnect, $"no answer within the connect timeout of {options.ConnectTimeout.TotalMilliseconds:0} ms"),
            RedisTimeoutException => (ConnectionFailureType.UnableToConnect, $"no answer within the connect timeout of {options.ConnectTimeout.TotalMilliseconds:0} ms"),
            _ => (ConnectionFailureType.UnableToConnect, exception.Message),
        };
        return new RedisConnectionException(type, $"It was not possible to connect to Redis at {options.EndPoint}: {reason}", exception);
    }

    private async Task HandshakeAsync(ConfigurationOptions options, bool selectDatabase, CancellationToken cancellationToken)
    {
        var handshake = new List<PendingCommand>(4);
        if (options.Protocol == RedisProtocol.Resp3)
        {
            handshake.Add(Handshake("HELLO", [3, .. Credentials(options, "AUTH"), .. ClientName(options, "SETNAME")]));
        }
        else
        {
            if (options.Password is not null)
            {
                handshake.Add(Handshake("AUTH", Credentials(options, null)));
            }

            if (options.ClientName is not null)
            {
                handshake.Add(Handshake("CLIENT", ["SETNAME", options.ClientName]));
            }
        }

        if (selectDatabase && options.DefaultDatabase != 0)
        {
            handshake.Add(Handshake("SELECT", [options.DefaultDatabase]));
        }

        handshake.Add(Handshake("PING", []));
        if (!TryEnqueue([.. handshake]))
        {
            throw Failure!;
        }

        foreach (var command in handshake)
        {
            await command.Task.WaitAsync(cancellationToken);
        }

        PendingCommand Handshake(string command, RedisValue[] arguments) => new(command, arguments, options.ConnectTimeout);
    }

    private static RedisValue[] Credentials(ConfigurationOptions options, string? keyword) => options.Password is null
        ? []
        : [.. keyword is null ? Array.Empty<RedisValue>() : [keyword], options.User ?? "default", options.Password];

    private static RedisValue[] ClientName(ConfigurationOptions options, string keyword) =>
        options.ClientName is null ? [] : [keyword, options.ClientName];

    private void Start() => _loops = Task.WhenAll(Task.Run(ReadLoopAsync), Task.Run(WriteLoopAsync));

    private async Task WriteLoopAsync()
    {
        var queue = _outgoing.Reader;
        try
        {
            while (await queue.WaitToReadAsync())
            {
                while (queue.TryRead(out var item))
                {
                    Write(item);
                }

                var flush = await _output.FlushAsync();
                if (flush.IsCompleted || flush.IsCanceled)
                {
                    break;
                }
            }
        }
        catch (Exception exception) when (exception is IOException or SocketException or ObjectDisposedException or InvalidOperationException)
        {
            Fail(new RedisConnectionException(ConnectionFailureType.SocketClosed, $"Writing to Redis at {EndPoint} failed: {exception.Message}", exception));
        }

        // Completing with the failure discards what is still buffered: flushing it to the closed socket would throw.
        await _output.CompleteAsync(Failure);
    }

    private void Write(object item)
    {
        if (item is PendingCommand command)
        {
            // A command whose caller gave up before it was sent is never sent: no reply will be waited for.
            if (!command.Task.IsCompleted)
            {
                WriteOne(command);
            }
        }
        else
        {
            foreach (var grouped in (PendingCommand[])item)
            {
                WriteOne(grouped);
            }
        }

        if (Failure is not null)
        {
            FailPending();
        }
    }

    private void WriteOne(PendingCommand command)
    {
        _awaitingReply.Enqueue(command);
        RespWriter.WriteCommand(_output, command.Command, command.Arguments);
    }

    private async Task ReadLoopAsync()
    {
        RedisConnectionException failure;
        try
        {
            while (true)
            {
                var read = await _input.ReadAsync();
                var buffer = read.Buffer;
                while (RespParser.TryParse(ref buffer, out var reply))
                {
                    Dispatch(reply);
                }

                _input.AdvanceTo(buffer.Start, buffer.End);
                if (read.IsCompleted || read.IsCanceled)
                {
                    failure = new RedisConnectionException(ConnectionFailureType.SocketClosed, $"Redis at {EndPoint} closed the connection.");
                    break;
                }
            }
        }
        catch (RedisProtocolException exception)
        {
            failure = new RedisConnectionException(ConnectionFailureType.ProtocolFailure, $"Redis at {EndPoint} sent an invalid reply. {exception.Message}", exception);
        }
        catch (Exception exception) when (exception is IOException or SocketException or ObjectDisposedException or InvalidOperationException)
        {
            failure = new RedisConnectionException(ConnectionFailureType.SocketClosed, $"Reading from Redis at {EndPoint} failed: {exception.Message}", exception);
        }

        Fail(failure);
        await _input.CompleteAsync();
    }

    private void Dispatch(RedisResult reply)
    {
        if (_tryHandleOutOfBand(reply))
        {
            return;
        }

        if (!_awaitingReply.TryDequeue(out var command))
        {
            throw new RedisProtocolException($"Protocol error: the server sent a {reply.Type} reply that answers no command.");
        }

        command.Complete(reply);
    }

    private void Fail(RedisConnectionException failure)
    {
        if (Interlocked.CompareExchange(ref _failure, failure, null) is not null)
        {
            return;
        }

        WakeLoops();
        _stream.Dispose();
        _outgoing.Writer.TryComplete();
        FailPending();
        _failed(this, failure);
    }

    private void WakeLoops()
    {
        try
        {
            _input.CancelPendingRead();
            _output.CancelPendingFlush();
        }
        catch (ObjectDisposedException)
        {
            // A loop that saw the socket close first has already completed its pipe: it needs no waking.
        }
    }

    private void FailPending()
    {
        var failure = Failure!;
        while (_outgoing.Reader.TryRead(out var item))
        {
            if (item is PendingCommand command)
            {
                command.Fail(failure);
            }
            else
            {
                foreach (var grouped in (PendingCommand[])item)
                {
                    grouped.Fail(failure);
                }
            }
        }

        while (_awaitingReply.TryDequeue(out var command))
        {
            command.Fail(failure);
        }
    }
}
