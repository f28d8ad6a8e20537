using CloudScale.Redis.Connections;

namespace CloudScale.Redis;

/// <summary>
/// MULTI/EXEC. Commands are queued locally and sent back to back with <see cref="ExecuteAsync()"/>; their tasks complete
/// when EXEC answers. Without WATCH the transaction rides the shared connection; after <see cref="WatchAsync"/> it
/// runs on a dedicated connection, because WATCH belongs to the connection and must not see other callers' commands.
/// Read watched keys through the database after WATCH has returned: any change after that aborts EXEC.
/// </summary>
public interface ITransaction : IAsyncDisposable
{
    /// <summary>WATCH: EXEC will abort if any of these keys changes from now on.</summary>
    Task WatchAsync(RedisKey[] keys, CancellationToken cancellationToken = default);

    /// <summary>Queues any command; its task completes with its reply once EXEC has run.</summary>
    Task<RedisResult> ExecuteAsync(string command, params RedisValue[] arguments);

    Task<bool> StringSetAsync(RedisKey key, RedisValue value, TimeSpan? expiry = null);

    Task<long> StringIncrementAsync(RedisKey key, long value = 1);

    Task<bool> KeyDeleteAsync(RedisKey key);

    Task<bool> HashSetAsync(RedisKey key, RedisValue field, RedisValue value);

    /// <summary>Sends MULTI, the queued commands and EXEC; false (and the queued tasks cancelled) when a watched key changed.</summary>
    Task<bool> ExecuteAsync(CancellationToken cancellationToken = default);
}

internal sealed class RedisTransaction(ConnectionMultiplexer multiplexer) : ITransaction
{
    private readonly List<(PendingCommand Command, TaskCompletionSource<RedisResult> Reply)> _queued = [];
    private PhysicalConnection? _watching;
    private bool _executed;

    public async Task WatchAsync(RedisKey[] keys, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_executed, this);
        _watching ??= await multiplexer.LeaseAsync(cancellationToken);
        await multiplexer.SendAsync(_watching, "WATCH", RedisDatabase.Keys(keys), multiplexer.Options.CommandTimeout, cancellationToken);
    }

    public Task<RedisResult> ExecuteAsync(string command, params RedisValue[] arguments)
    {
        ObjectDisposedException.ThrowIf(_executed, this);
        var reply = new TaskCompletionSource<RedisResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        _queued.Add((new PendingCommand(command, arguments, multiplexer.Options.CommandTimeout), reply));
        return reply.Task;
    }

    public async Task<bool> StringSetAsync(RedisKey key, RedisValue value, TimeSpan? expiry = null) =>
        !(await (expiry is null ? ExecuteAsync("SET", key, value) : ExecuteAsync("SET", key, value, "PX", (long)expiry.Value.TotalMilliseconds))).IsNull;

    public async Task<long> StringIncrementAsync(RedisKey key, long value = 1) => (long)await ExecuteAsync("INCRBY", key, value);

    public async Task<bool> KeyDeleteAsync(RedisKey key) => (long)await ExecuteAsync("DEL", key) == 1;

    public async Task<bool> HashSetAsync(RedisKey key, RedisValue field, RedisValue value) => (long)await ExecuteAsync("HSET", key, field, value) == 1;

    public async Task<bool> ExecuteAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_executed, this);
        _executed = true;
        var timeout = multiplexer.Options.CommandTimeout;
        var multi = new PendingCommand("MULTI", [], timeout);
        var exec = new PendingCommand("EXEC", [], timeout);
        exec.CancelWith(cancellationToken);
        PendingCommand[] commands = [multi, .. _queued.Select(queued => queued.Command), exec];
        if (_watching is null)
        {
            multiplexer.ExecuteGroup(commands);
        }
        else if (!_watching.TryEnqueue(commands))
        {
            Array.ForEach(commands, command => command.Fail(_watching.Failure!));
        }

        try
        {
            return Complete(await exec.Task, commands);
        }
        catch (Exception exception)
        {
            foreach (var (_, reply) in _queued)
            {
                reply.TrySetException(exception);
            }

            throw;
        }
        finally
        {
            await DisposeAsync();
        }
    }

    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _watching, null) is { } connection)
        {
            // Returning a connection that still WATCHes keys (no EXEC ran) would leak the watch to its next user.
            if (!_executed)
            {
                return connection.DisposeAsync();
            }

            multiplexer.Return(connection);
        }

        return ValueTask.CompletedTask;
    }

    private bool Complete(RedisResult execReply, PendingCommand[] commands)
    {
        // Replies to MULTI and the QUEUED acknowledgements are awaited only to observe their errors.
        foreach (var command in commands.AsSpan(0, commands.Length - 1))
        {
            _ = command.Task.Exception;
        }

        if (execReply.IsNull)
        {
            foreach (var (_, reply) in _queued)
            {
                reply.TrySetCanceled();
            }

            return false;
        }

        for (var index = 0; index < _queued.Count; index++)
        {
            var result = execReply[index];
            if (result.Type == RedisResultType.Error)
            {
                _queued[index].Reply.TrySetException(new RedisServerException(result.ToString()));
            }
            else
            {
                _queued[index].Reply.TrySetResult(result);
            }
        }

        return true;
    }
}
