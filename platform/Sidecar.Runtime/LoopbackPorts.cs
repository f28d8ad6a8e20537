using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Aspire.Hosting.Dapr;

/// <summary>
/// Loopback ports for local servers and sidecars, chosen before they start (they are not proxied, and a sidecar's ports
/// are on its command line). A port the kernel hands out for a bind to port 0 comes from its ephemeral range, the range
/// every outgoing connection also takes its local port from, so in the seconds before the server binds it, a connection
/// could take it ("address already in use"). These come from below that range instead, are checked free when chosen,
/// and are handed out once per process.
/// </summary>
public static class LoopbackPorts
{
    private const int Lowest = 10_000;
    private const string EphemeralRangeFile = "/proc/sys/net/ipv4/ip_local_port_range";

    private static readonly int EphemeralStart = ReadEphemeralStart();
    private static readonly ConcurrentDictionary<int, byte> HandedOut = new();

    /// <summary>A loopback port that is free now, outside the kernel's ephemeral range, and not handed out before by this process.</summary>
    public static int Free()
    {
        for (var attempt = 0; attempt < 1000 && EphemeralStart - Lowest >= 1000; attempt++)
        {
            var port = Random.Shared.Next(Lowest, EphemeralStart);
            if (HandedOut.TryAdd(port, 0) && TryBind(port) is not null)
            {
                return port;
            }
        }

        // No room below the ephemeral range (a system configured so): the kernel's choice, as a last resort.
        var chosen = TryBind(0) ?? throw new InvalidOperationException("No loopback port can be bound.");
        HandedOut.TryAdd(chosen, 0);
        return chosen;
    }

    private static int? TryBind(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }
        catch (SocketException)
        {
            return null;
        }
    }

    private static int ReadEphemeralStart()
    {
        try
        {
            var range = File.ReadAllText(EphemeralRangeFile).Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            return int.Parse(range[0], CultureInfo.InvariantCulture);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            // Linux's default range starts here; other systems' start higher.
            return 32_768;
        }
    }
}
