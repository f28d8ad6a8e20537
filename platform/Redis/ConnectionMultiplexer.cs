using System.Collections.Concurrent;
using System.Diagnostics;
using CloudScale.Redis.Connections;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace CloudScale.Redis;

public sealed class ConnectionFailedEventArgs(string role, RedisConnectionException? failure) : EventArgs
{
    /// <summary><c>interactive</c> or <c>subscriber</c>.</summary>
    public string Role { get; } = role;

    /// <summary>Why the connection dropped; null when it has been restored.</summary>
    public RedisConnectionException? Failure { get; } = failure;
}

public interface IConnectionMultiplexer : IAsyncDisposable
{
    bool IsConnected { get; }

    /// <summary>The configuration in use, with the password left out.</summary>
    string Configuration { get; }

    event EventHandler<ConnectionFailedEventArgs>? ConnectionFailed;

    event EventHandler<ConnectionFailedEventArgs>? ConnectionRestored;

    IDatabase GetDatabase();

    ISubscriber GetSubscriber();
}

/// <summary>
/// All callers share one pipelined connection; blocking commands (XREADGROUP … BLOCK) and WATCH transactions lease
/// dedicated connections from a small pool, and pub/sub has its own connection whose subscriptions are restored
/// after a reconnect. While the interactive connection is down, commands fail at once with
/// <see cref="RedisConnectionException"/> (only the very first connection attempt is waited for, so that an
/// application can issue commands right after <see cref="Create"/>); nothing is retried behind the caller's back.
/// </summary>
public sealed class ConnectionMultiplexer : IConnectionMultiplexer
{
    internal const string InteractiveRole = "interactive";
    internal const string SubscriberRole = "subscriber";
    private const int MaxIdleDedicated = 8;
    private static readonly TimeSpan TimeoutSweepInterval = TimeSpan.FromMilliseconds(50);

    private readonly ManagedConnection _interactive;
    private readonly Lazy<ManagedConnection> _subscriberConnection;
    private readonly ConcurrentBag<PhysicalConnection> _idleDedicated = [];
    private readonly ConcurrentDictionary<PhysicalConnection, byte> _open = new();
    private readonly ILogger _logger;
    private readonly Timer _timeoutSweep;
    private readonly RedisDatabase _database;
    private readonly RedisSubscriber _subscriber;
    private int _disposed;
    private int _subscriberStarted;

    private ConnectionMultiplexer(ConfigurationOptions options, ILoggerFactory? loggerFactory)
    {
        Options = options.Clone();
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<ConnectionMultiplexer>();
        _database = new RedisDatabase(this);
        _subscriber = new RedisSubscriber(this, _logger);
        _interactive = new ManagedConnection(this, InteractiveRole, static reply => reply.Type == RedisResultType.Push, restore: null, _logger);
        _subscriberConnection = new(() => new ManagedConnection(this, SubscriberRole, _subscriber.TryDispatch, _subscriber.RestoreAsync, _logger));
        _timeoutSweep = new Timer(static state => ((ConnectionMultiplexer)state!).TimeOutExpired(), this, TimeoutSweepInterval, TimeoutSweepInterval);
    }

    public event EventHandler<ConnectionFailedEventArgs>? ConnectionFailed;

    public event EventHandler<ConnectionFailedEventArgs>? ConnectionRestored;

    public bool IsConnected => _interactive.Current?.IsConnected == true;

    public string Configuration =>
        $"{Options.EndPoint},ssl={Options.Ssl},defaultDatabase={Options.DefaultDatabase},asyncTimeout={Options.CommandTimeout.TotalMilliseconds:0}";

    internal ConfigurationOptions Options { get; }

    /// <summary>Connects to the server of a connection string such as <c>localhost:6379,password=…,ssl=true</c>.</summary>
    public static Task<ConnectionMultiplexer> ConnectAsync(string configuration, ILoggerFactory? loggerFactory = null) =>
        ConnectAsync(ConfigurationOptions.Parse(configuration), loggerFactory);

    /// <summary>
    /// Connects and returns once the first attempt has finished. If it fails, this throws when
    /// <see cref="ConfigurationOptions.AbortOnConnectFail"/> is set, and otherwise returns a multiplexer that keeps trying.
    /// </summary>
    public static async Task<ConnectionMultiplexer> ConnectAsync(ConfigurationOptions options, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var multiplexer = new ConnectionMultiplexer(options, loggerFactory);
        try
        {
            await multiplexer._interactive.StartAsync();
        }
        catch (RedisConnectionException) when (!options.AbortOnConnectFail)
        {
            // abortConnect=false: the multiplexer keeps reconnecting in the background.
        }
        catch
        {
            await multiplexer.DisposeAsync();
            throw;
        }

        return multiplexer;
    }

    /// <summary>Returns at once and connects in the background (abortConnect=false semantics), as a DI container needs.</summary>
    public static ConnectionMultiplexer Create(ConfigurationOptions options, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var multiplexer = new ConnectionMultiplexer(options, loggerFactory);
        _ = multiplexer._interactive.StartAsync().ContinueWith(
            static attempt => _ = attempt.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        return multiplexer;
    }

    public IDatabase GetDatabase() => _database;

    public ISubscriber GetSubscriber() => _subscriber;

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _timeoutSweep.DisposeAsync();
        await _interactive.DisposeAsync();
        if (_subscriberConnection.IsValueCreated)
        {
            await _subscriberConnection.Value.DisposeAsync();
        }

        foreach (var connection in _open.Keys)
        {
            await connection.DisposeAsync();
        }

        _subscriber.Dispose();
    }

    /// <summary>Sends a command on the shared connection.</summary>
    internal Task<RedisResult> ExecuteAsync(string command, RedisValue[] arguments, CancellationToken cancellationToken) =>
        RedisTelemetry.IsObserved
            ? ObserveAsync(command, () => ExecuteUnobservedAsync(command, arguments, cancellationToken))
            : ExecuteUnobservedAsync(command, arguments, cancellationToken);

    /// <summary>Sends commands that must arrive back to back (MULTI … EXEC) on the shared connection.</summary>
    internal void ExecuteGroup(PendingCommand[] commands)
    {
        var connection = _interactive.Current;
        if (connection is null || !connection.TryEnqueue(commands))
        {
            var failure = connection?.Failure ?? _interactive.NotConnected();
            foreach (var command in commands)
            {
                command.Fail(failure);
            }
        }
    }

    /// <summary>Sends a command on a connection of its own caller, such as a leased dedicated connection.</summary>
    internal Task<RedisResult> SendAsync(PhysicalConnection connection, string command, RedisValue[] arguments, TimeSpan timeout, CancellationToken cancellationToken) =>
        RedisTelemetry.IsObserved
            ? ObserveAsync(command, () => Send(connection, command, arguments, timeout, cancellationToken))
            : Send(connection, command, arguments, timeout, cancellationToken);

    internal Task<RedisResult> SendToSubscriberAsync(string command, RedisValue[] arguments, CancellationToken cancellationToken)
    {
        if (IsDisposed)
        {
            return Task.FromException<RedisResult>(RedisConnectionException.Disposed(Options.EndPoint));
        }

        var connection = _subscriberConnection.Value;
        return connection.Current is { } current
            ? Send(current, command, arguments, Options.CommandTimeout, cancellationToken)
            : Task.FromException<RedisResult>(connection.NotConnected());
    }

    /// <summary>Makes sure the subscriber connection exists and has made its first attempt.</summary>
    internal async Task EnsureSubscriberConnectedAsync()
    {
        ThrowIfDisposed();
        var connection = _subscriberConnection.Value;
        if (Interlocked.Exchange(ref _subscriberStarted, 1) == 0)
        {
            try
            {
                await connection.StartAsync();
            }
            catch (RedisConnectionException)
            {
                // Reported to the caller by the SUBSCRIBE that follows; the connection keeps trying.
            }
        }

        await connection.FirstAttempt;
    }

    /// <summary>A connection of the caller's own for a blocking command or a WATCH transaction; give it back with <see cref="Return"/>.</summary>
    internal async Task<PhysicalConnection> LeaseAsync(CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        while (_idleDedicated.TryTake(out var idle))
        {
            if (idle.IsConnected)
            {
                return idle;
            }
        }

        return await OpenPhysicalAsync(subscriber: false, static reply => reply.Type == RedisResultType.Push, (_, _) => { }, cancellationToken);
    }

    /// <summary>Pools a leased connection that is idle and healthy; closes any other (for example one still blocked in a cancelled XREADGROUP).</summary>
    internal void Return(PhysicalConnection connection)
    {
        if (connection.IsConnected && connection.AwaitingReplies == 0 && _idleDedicated.Count < MaxIdleDedicated && !IsDisposed)
        {
            _idleDedicated.Add(connection);
            return;
        }

        _ = connection.DisposeAsync().AsTask();
    }

    internal async Task<PhysicalConnection> OpenPhysicalAsync(
        bool subscriber,
        Func<RedisResult, bool> tryHandleOutOfBand,
        Action<PhysicalConnection, RedisConnectionException> failed,
        CancellationToken cancellationToken)
    {
        var connection = await PhysicalConnection.ConnectAsync(
            Options,
            selectDatabase: !subscriber,
            tryHandleOutOfBand,
            (dropped, failure) =>
            {
                _open.TryRemove(dropped, out _);
                failed(dropped, failure);
            },
            cancellationToken);
        _open[connection] = 0;
        if (!connection.IsConnected)
        {
            _open.TryRemove(connection, out _);
        }

        // A full fence: either DisposeAsync finds this connection in _open and closes it, or this sees the disposal.
        if (Interlocked.CompareExchange(ref _disposed, 0, 0) != 0)
        {
            await connection.DisposeAsync();
            throw RedisConnectionException.Disposed(Options.EndPoint);
        }

        return connection;
    }

    internal void OnConnectionFailed(string role, RedisConnectionException failure) =>
        ConnectionFailed?.Invoke(this, new ConnectionFailedEventArgs(role, failure));

    internal void OnConnectionRestored(string role) =>
        ConnectionRestored?.Invoke(this, new ConnectionFailedEventArgs(role, null));

    private bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    private void ThrowIfDisposed()
    {
        if (IsDisposed)
        {
            throw RedisConnectionException.Disposed(Options.EndPoint);
        }
    }

    private Task<RedisResult> ExecuteUnobservedAsync(string command, RedisValue[] arguments, CancellationToken cancellationToken)
    {
        var connection = _interactive.Current;
        if (connection is null)
        {
            return _interactive.FirstAttempt.IsCompleted
                ? Task.FromException<RedisResult>(_interactive.NotConnected())
                : ExecuteAfterFirstAttemptAsync(command, arguments, cancellationToken);
        }

        return Send(connection, command, arguments, Options.CommandTimeout, cancellationToken);
    }

    private async Task<RedisResult> ExecuteAfterFirstAttemptAsync(string command, RedisValue[] arguments, CancellationToken cancellationToken)
    {
        await _interactive.FirstAttempt.WaitAsync(Options.CommandTimeout, cancellationToken);
        var connection = _interactive.Current ?? throw _interactive.NotConnected();
        return await Send(connection, command, arguments, Options.CommandTimeout, cancellationToken);
    }

    private static Task<RedisResult> Send(PhysicalConnection connection, string command, RedisValue[] arguments, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var pending = new PendingCommand(command, arguments, timeout);
        pending.CancelWith(cancellationToken);
        if (!connection.TryEnqueue(pending))
        {
            pending.Fail(connection.Failure ?? new RedisConnectionException(ConnectionFailureType.SocketClosed, "The connection is closed."));
        }

        return pending.Task;
    }

    private async Task<RedisResult> ObserveAsync(string command, Func<Task<RedisResult>> send)
    {
        using var activity = RedisTelemetry.Source.StartActivity(command, ActivityKind.Client);
        activity?.SetTag("db.system.name", "redis");
        activity?.SetTag("db.operation.name", command);
        activity?.SetTag("db.namespace", Options.DefaultDatabase.ToString(System.Globalization.CultureInfo.InvariantCulture));
        activity?.SetTag("server.address", Options.Host);
        activity?.SetTag("server.port", Options.Port);
        var tags = new TagList { { "db.system.name", "redis" }, { "db.operation.name", command } };
        var started = Stopwatch.GetTimestamp();
        RedisTelemetry.InFlight.Add(1);
        try
        {
            var reply = await send();
            RedisTelemetry.Commands.Add(1, tags);
            return reply;
        }
        catch (Exception exception)
        {
            tags.Add("error.type", exception.GetType().Name);
            RedisTelemetry.Commands.Add(1, tags);
            activity?.SetStatus(ActivityStatusCode.Error, exception.Message);
            activity?.SetTag("error.type", exception.GetType().Name);
            throw;
        }
        finally
        {
            RedisTelemetry.InFlight.Add(-1);
            RedisTelemetry.Duration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, tags);
        }
    }

    private void TimeOutExpired()
    {
        var now = Stopwatch.GetTimestamp();
        foreach (var connection in _open.Keys)
        {
            connection.TimeOutExpired(now);
        }
    }
}
