using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CloudScale.Sidecar.Benchmarks;

/// <summary>The app invoked through the sidecars: raw Kestrel answering a tiny body, so the figures show the sidecars' cost.</summary>
internal sealed class TargetApp(WebApplication app) : IAsyncDisposable
{
    public int Port { get; } = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()).Port;

    public static async Task<TargetApp> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        app.MapGet("/echo", () => "ok");
        await app.StartAsync();
        return new TargetApp(app);
    }

    public async ValueTask DisposeAsync() => await app.DisposeAsync();
}
