using System.Net.Sockets;
using CloudScale.Sidecar.Api;
using CloudScale.Sidecar.Configuration;
using CloudScale.Sidecar.PubSub;

namespace CloudScale.Sidecar;

/// <summary>
/// Waits for the app's port to accept connections (as daprd does before it reports ready), then reads its
/// subscriptions and starts delivering. Stopping cancels delivery; what was not delivered stays unacknowledged.
/// </summary>
internal sealed partial class AppConnection(SidecarOptions options, Readiness readiness, Subscriber subscriber, ILogger<AppConnection> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.AppPort is { } port)
        {
            while (!await CanConnectAsync(port, stoppingToken))
            {
                await Task.Delay(TimeSpan.FromMilliseconds(50), stoppingToken);
            }

            LogAppConnected(options.AppChannelAddress, port);
        }

        var delivery = await subscriber.StartAsync(stoppingToken);
        readiness.MarkAppReady();
        try
        {
            await delivery;
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down.
        }
    }

    private async Task<bool> CanConnectAsync(int port, CancellationToken cancellationToken)
    {
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(options.AppChannelAddress, port, cancellationToken);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "App channel connected to {Address}:{Port}")]
    private partial void LogAppConnected(string address, int port);
}
