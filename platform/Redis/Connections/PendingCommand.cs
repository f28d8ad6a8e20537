using System.Diagnostics;

namespace CloudScale.Redis.Connections;

/// <summary>
/// One command on its way to the server and the promise of its reply. It stays in the connection's reply queue even
/// when its caller gave up (timeout, cancellation), so that the reply it eventually gets is consumed and discarded
/// instead of being handed to the next command.
/// </summary>
internal sealed class PendingCommand : TaskCompletionSource<RedisResult>
{
    private CancellationTokenRegistration _cancellation;

    public PendingCommand(string command, RedisValue[] arguments, TimeSpan timeout)
        : base(TaskCreationOptions.RunContinuationsAsynchronously)
    {
        Command = command;
        Arguments = arguments;
        Timeout = timeout;
        Deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
    }

    public string Command { get; }

    public RedisValue[] Arguments { get; }

    public TimeSpan Timeout { get; }

    /// <summary>In <see cref="Stopwatch"/> ticks.</summary>
    public long Deadline { get; }

    public void CancelWith(CancellationToken cancellationToken)
    {
        if (cancellationToken.CanBeCanceled)
        {
            _cancellation = cancellationToken.UnsafeRegister(
                static (state, token) => ((PendingCommand)state!).TrySetCanceled(token), this);
        }
    }

    public void Complete(RedisResult reply)
    {
        if (reply.Type == RedisResultType.Error)
        {
            TrySetException(new RedisServerException(reply.ToString()));
        }
        else
        {
            TrySetResult(reply);
        }

        _cancellation.Dispose();
    }

    public void Fail(RedisConnectionException failure)
    {
        TrySetException(new RedisConnectionException(failure.FailureType, failure.Message, failure.InnerException));
        _cancellation.Dispose();
    }

    public void TimeOut(int awaitingReplies)
    {
        TrySetException(new RedisTimeoutException(
            $"Timeout awaiting the reply to {Command} after {Timeout.TotalMilliseconds:0} ms ({awaitingReplies} commands awaiting replies on the connection)."));
        _cancellation.Dispose();
    }
}
