using System.Net;
using System.Net.Sockets;

namespace Aspire.Hosting.Orchestration;

internal static class Ports
{
    /// <summary>A loopback port free right now (the kernel's choice, so parallel AppHosts rarely collide).</summary>
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
