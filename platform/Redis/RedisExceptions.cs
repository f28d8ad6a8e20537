namespace CloudScale.Redis;

public enum ConnectionFailureType
{
    UnableToConnect,
    SocketClosed,
    ProtocolFailure,
    AuthenticationFailure,
    Disposed,
}

public class RedisException : Exception
{
    public RedisException()
    {
    }

    public RedisException(string message) : base(message)
    {
    }

    public RedisException(string message, Exception? innerException) : base(message, innerException)
    {
    }
}

/// <summary>An error reply from the server, with Redis's own message (for example <c>ERR …</c>, <c>WRONGTYPE …</c>).</summary>
public sealed class RedisServerException : RedisException
{
    public RedisServerException()
    {
    }

    public RedisServerException(string message) : base(message)
    {
    }

    public RedisServerException(string message, Exception? innerException) : base(message, innerException)
    {
    }
}

/// <summary>
/// The command did not get a reply because the connection could not be made, dropped, or carried bytes that are not RESP.
/// A write that fails this way may or may not have been applied by the server: it is never retried automatically.
/// </summary>
public sealed class RedisConnectionException : RedisException
{
    public RedisConnectionException()
    {
    }

    public RedisConnectionException(string message) : base(message)
    {
    }

    public RedisConnectionException(string message, Exception? innerException) : base(message, innerException)
    {
    }

    public RedisConnectionException(ConnectionFailureType failureType, string message, Exception? innerException = null)
        : base(message, innerException) => FailureType = failureType;

    public ConnectionFailureType FailureType { get; }

    internal static RedisConnectionException Disposed(string endPoint) =>
        new(ConnectionFailureType.Disposed, $"The connection to Redis at {endPoint} was closed by the client: the multiplexer has been disposed.");
}

/// <summary>The server did not answer within the command's timeout; the connection stays usable.</summary>
public sealed class RedisTimeoutException : TimeoutException
{
    public RedisTimeoutException()
    {
    }

    public RedisTimeoutException(string message) : base(message)
    {
    }

    public RedisTimeoutException(string message, Exception? innerException) : base(message, innerException)
    {
    }
}

/// <summary>The bytes from the server are not valid RESP.</summary>
public sealed class RedisProtocolException : RedisException
{
    public RedisProtocolException()
    {
    }

    public RedisProtocolException(string message) : base(message)
    {
    }

    public RedisProtocolException(string message, Exception? innerException) : base(message, innerException)
    {
    }
}
