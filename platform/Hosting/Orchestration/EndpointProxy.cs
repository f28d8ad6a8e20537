using System.Net;
using System.Net.Sockets;

namespace Aspire.Hosting.Orchestration;

/// <summary>One replica behind a proxied endpoint.</summary>
internal sealed class ProxyBackend(int port)
{
    public int Port { get; } = port;

    public volatile bool Healthy;
}

/// <summary>
/// The stable port of a process resource's endpoint, as DCP's proxy: a TCP proxy that spreads connections
/// round-robin over the healthy replicas and skips one that refuses connections, so a killed replica leaves
/// the rotation at once and a restarted one rejoins when its health check passes.
/// </summary>
internal sealed class EndpointProxy : IAsyncDisposable
{
    private readonly TcpListener[] _listeners;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _gate = new();
    private ProxyBackend?[] _replicas = [];
    private int _next;
    private Task? _accepting;

    private EndpointProxy(TcpListener[] listeners)
    {
        _listeners = listeners;
        Port = ((IPEndPoint)listeners[0].LocalEndpoint).Port;
    }

    public int Port { get; }

    /// <summary>
    /// Binds the port on 127.0.0.1 and [::1]: URLs say <c>localhost</c>, which clients try over IPv6 first, and
    /// the port must not lead to whatever else happens to hold it there. An allocated port is retried until both are free.
    /// </summary>
    public static EndpointProxy Bind(int? requestedPort)
    {
        for (var attempt = 0; ; attempt++)
        {
            var v4 = new TcpListener(IPAddress.Loopback, requestedPort ?? 0);
            v4.Start();
            var port = ((IPEndPoint)v4.LocalEndpoint).Port;
            var v6 = new TcpListener(IPAddress.IPv6Loopback, port);
            try
            {
                v6.Start();
                return new EndpointProxy([v4, v6]);
            }
            catch (SocketException) when (requestedPort is null && attempt < 20)
            {
                v4.Stop();
            }
            catch (SocketException exception) when (exception.SocketErrorCode == SocketError.AddressNotAvailable)
            {
                // No IPv6 on this machine: localhost can only mean 127.0.0.1.
                return new EndpointProxy([v4]);
            }
        }
    }

    public void Start() => _accepting = Task.WhenAll(_listeners.Select(AcceptLoopAsync));

    public void SetBackend(int replica, ProxyBackend? backend)
    {
        lock (_gate)
        {
            if (_replicas.Length <= replica)
            {
                Array.Resize(ref _replicas, replica + 1);
            }

            _replicas[replica] = backend;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        foreach (var listener in _listeners)
        {
            listener.Stop();
        }

        if (_accepting is not null)
        {
            await _accepting.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        _stopping.Dispose();
    }

    private async Task AcceptLoopAsync(TcpListener listener)
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listener.AcceptSocketAsync(_stopping.Token);
            }
            catch (Exception exception) when (exception is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            _ = ServeAsync(client);
        }
    }

    private async Task ServeAsync(Socket client)
    {
        using (client)
        {
            using var upstream = await ConnectToBackendAsync();
            if (upstream is null)
            {
                return;
            }

            client.NoDelay = true;
            upstream.NoDelay = true;
            await using var clientStream = new NetworkStream(client, ownsSocket: false);
            await using var upstreamStream = new NetworkStream(upstream, ownsSocket: false);
            var toUpstream = PumpAsync(clientStream, upstream, upstreamStream, client);
            var toClient = PumpAsync(upstreamStream, client, clientStream, upstream);
            await Task.WhenAll(toUpstream, toClient);
        }
    }

    private static async Task PumpAsync(Stream from, Socket toSocket, Stream to, Socket fromSocket)
    {
        try
        {
            await from.CopyToAsync(to);
            toSocket.Shutdown(SocketShutdown.Send);
        }
        catch (Exception exception) when (exception is IOException or SocketException or ObjectDisposedException)
        {
            // A reset on one side resets the other, as a direct connection would: a client must not wait for a
            // response from a replica that died mid-request.
            fromSocket.Close();
            toSocket.Close();
        }
    }

    private async Task<Socket?> ConnectToBackendAsync()
    {
        List<ProxyBackend> candidates;
        lock (_gate)
        {
            var all = _replicas.OfType<ProxyBackend>().ToList();
            var healthy = all.Where(backend => backend.Healthy).ToList();
            // Before any health check has passed, any running replica is better than none.
            candidates = healthy.Count > 0 ? healthy : all;
            var start = candidates.Count == 0 ? 0 : _next++ % candidates.Count;
            candidates = [.. candidates.Skip(start), .. candidates.Take(start)];
        }

        foreach (var backend in candidates)
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
                timeout.CancelAfter(TimeSpan.FromSeconds(2));
                await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, backend.Port), timeout.Token);
                return socket;
            }
            catch (Exception exception) when (exception is SocketException or OperationCanceledException)
            {
                backend.Healthy = false;
                socket.Dispose();
            }
        }

        return null;
    }
}
