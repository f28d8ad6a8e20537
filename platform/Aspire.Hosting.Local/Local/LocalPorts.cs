using System.Net;
using System.Net.Sockets;

namespace Aspire.Hosting.Local;

/// <summary>
/// A free loopback port, fixed when the model is built: local servers and sidecars are not proxied (a proxy would add a
/// hop to every Redis, Postgres and Dapr call), so their ports are known before they start.
/// </summary>
internal static class LocalPorts
{
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
