using Microsoft.Extensions.Logging;

namespace CloudScale.Redis.Connections;

/// <summary>
/// A long-lived connection of one role (interactive or subscriber) that reconnects in the background with exponential
/// backoff after it drops. Commands never wait for a reconnect: while it is down they fail fast (see
/// <see cref="ConnectionMultiplexer"/>), so callers' timeouts, retries and circuit breakers stay in charge.
/// </summary>
internal sealed class ManagedConnection : IAsyncDisposable
{
    private readonly ConfigurationOptions _options;
    private readonly string _role;
    private readonly Func<RedisResult, bool> _tryHandleOutOfBand;
    private readonly Func<PhysicalConnection, Task>? _restore;
    private readonly ConnectionMultiplexer _owner;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _disposed = new();
    private readonly TaskCompletionSource _firstAttempt = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private PhysicalConnection? _current;
    private RedisConnectionException? _lastFailure;
    private Task _reconnecting = Task.CompletedTask;

    public ManagedConnection(
        ConnectionMultiplexer owner, string role, Func<RedisResult, bool> tryHandleOutOfBand, Func<PhysicalConnection, Task>? restore, ILogger logger)
    {
        _owner = owner;
        _options = owner.Options;
        _role = role;
        _tryHandleOutOfBand = tryHandleOutOfBand;
        _restore = restore;
        _logger = logger;
    }

    public PhysicalConnection? Current => Volatile.Read(ref _current);

    /// <summary>Completes when the first connection attempt has succeeded or failed.</summary>
    public Task FirstAttempt => _firstAttempt.Task;

    public RedisConnectionException NotConnected() => _disposed.IsCancellationRequested
        ? RedisConnectionException.Disposed(_options.EndPoint)
        : new(
            _lastFailure?.FailureType ?? ConnectionFailureType.UnableToConnect,
            $"No connection to Redis at {_options.EndPoint} is available" + (_lastFailure is null ? "." : $": {_lastFailure.Message}"),
            _lastFailure);

    /// <summary>Makes the first attempt; when it fails, keeps trying in the background and rethrows.</summary>
    public async Task StartAsync()
    {
        try
        {
            Publish(await OpenAsync(), reconnected: false);
        }
        catch (RedisConnectionException exception) when (!_disposed.IsCancellationRequested)
        {
            _lastFailure = exception;
            _reconnecting = Task.Run(ReconnectAsync);
            throw;
        }
        finally
        {
            _firstAttempt.TrySetResult();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _disposed.CancelAsync();
        _firstAttempt.TrySetResult();
        try
        {
            await _reconnecting;
        }
        catch (OperationCanceledException)
        {
            // The backoff delay was cut short by disposal.
        }

        if (Interlocked.Exchange(ref _current, null) is { } connection)
        {
            await connection.DisposeAsync();
        }

        _disposed.Dispose();
    }

    private Task<PhysicalConnection> OpenAsync() =>
        _owner.OpenPhysicalAsync(_role == ConnectionMultiplexer.SubscriberRole, _tryHandleOutOfBand, OnFailed, _disposed.Token);

    private void Publish(PhysicalConnection connection, bool reconnected)
    {
        Volatile.Write(ref _current, connection);
        if (reconnected)
        {
            RedisTelemetry.Reconnects.Add(1);
            Log.Reconnected(_logger, _options.EndPoint, _role);
            _owner.OnConnectionRestored(_role);
        }
        else
        {
            Log.Connected(_logger, _options.EndPoint, _role);
        }

        // It may have dropped before it was published, when OnFailed could not yet see it as current.
        if (connection.Failure is { } failure)
        {
            OnFailed(connection, failure);
        }
    }

    private void OnFailed(PhysicalConnection connection, RedisConnectionException failure)
    {
        if (Interlocked.CompareExchange(ref _current, null, connection) != connection || _disposed.IsCancellationRequested)
        {
            return;
        }

        _lastFailure = failure;
        Log.ConnectionLost(_logger, _role, _options.EndPoint, failure.Message);
        _owner.OnConnectionFailed(_role, failure);
        _reconnecting = Task.Run(ReconnectAsync);
    }

    private async Task ReconnectAsync()
    {
        var delay = _options.ReconnectDelay;
        while (!_disposed.IsCancellationRequested)
        {
            try
            {
                var connection = await OpenAsync();
                if (_restore is not null)
                {
                    await _restore(connection);
                }

                Publish(connection, reconnected: true);
                return;
            }
            catch (RedisConnectionException exception)
            {
                if (_disposed.IsCancellationRequested)
                {
                    return;
                }

                _lastFailure = exception;
                var jittered = delay * (0.8 + (Random.Shared.NextDouble() * 0.4));
                Log.ConnectFailed(_logger, _options.EndPoint, _role, jittered.TotalMilliseconds, exception.Message);
                await Task.Delay(jittered, _disposed.Token);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _options.MaxReconnectDelay.Ticks));
            }
        }
    }
}
