using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace CloudScale.Dapr.Tests.Support;

/// <summary>A request as the app saw it.</summary>
public sealed record ReceivedRequest(string Method, string Path, string Query, IReadOnlyDictionary<string, string> Headers);

/// <summary>
/// A real ASP.NET Core app in this process on a free loopback port: what a service is to its sidecar. Every request is
/// recorded; <paramref name="serviceDefaults"/> builds it with the production <c>AddServiceDefaults()</c>.
/// </summary>
public sealed class TestApp : IAsyncDisposable
{
    private readonly WebApplication _app;

    private TestApp(WebApplication app, ConcurrentQueue<ReceivedRequest> received)
    {
        _app = app;
        Received = received;
        Address = new Uri(app.Urls.Single());
        Client = new HttpClient { BaseAddress = Address };
    }

    public Uri Address { get; }

    public int Port => Address.Port;

    /// <summary>Calls the app directly, not through a sidecar.</summary>
    public HttpClient Client { get; }

    public ConcurrentQueue<ReceivedRequest> Received { get; }

    public IServiceProvider Services => _app.Services;

    public static async Task<TestApp> StartAsync(
        Action<WebApplication> map,
        Action<WebApplicationBuilder>? configure = null,
        IReadOnlyDictionary<string, string?>? configuration = null,
        bool serviceDefaults = false)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production", ContentRootPath = AppContext.BaseDirectory });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(configuration ?? new Dictionary<string, string?>(StringComparer.Ordinal));
        if (serviceDefaults)
        {
            builder.AddServiceDefaults();
        }

        configure?.Invoke(builder);
        var app = builder.Build();
        var received = new ConcurrentQueue<ReceivedRequest>();
        app.Use((context, next) =>
        {
            var request = context.Request;
            received.Enqueue(new ReceivedRequest(
                request.Method,
                request.Path.Value ?? "",
                request.QueryString.Value ?? "",
                request.Headers.ToDictionary(header => header.Key, header => header.Value.ToString(), StringComparer.OrdinalIgnoreCase)));
            return next(context);
        });
        if (serviceDefaults)
        {
            app.MapDefaultEndpoints();
        }

        map(app);
        await app.StartAsync();
        return new TestApp(app, received);
    }

    /// <summary>The last request the app received on <paramref name="path"/>.</summary>
    public ReceivedRequest LastOn(string path) => Received.Last(request => request.Path == path);

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.DisposeAsync();
    }
}
