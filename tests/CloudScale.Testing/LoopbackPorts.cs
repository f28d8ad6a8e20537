using System.Net;
using System.Net.Sockets;

namespace CloudScale.Testing;

public static class LoopbackPorts
{
    /// <summary>A loopback port that is free right now (the kernel's choice), for a server a test is about to start.</summary>
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
