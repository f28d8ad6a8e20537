using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Xunit;

namespace CloudScale.Testing;

/// <summary>
/// An ASP.NET Core app composed as a service's Program.cs does, on a free loopback port, in the test process: a
/// service under test (several at once act as replicas) or a small receiver standing in for another service.
/// </summary>
public sealed class InProcessApp : IAsyncDisposable
{
    private InProcessApp(WebApplication app)
    {
        App = app;
        BaseAddress = new Uri(app.Urls.First());
        Client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
    }

    public WebApplication App { get; }

    public Uri BaseAddress { get; }

    public int Port => BaseAddress.Port;

    public HttpClient Client { get; }

    /// <param name="environment">Development is what F5 and <c>./run.sh</c> run, with the framework's developer pages on.</param>
    /// <param name="overrides">Configuration layered over <paramref name="settings"/>: a test's own values over a service's test defaults.</param>
    public static async Task<InProcessApp> StartAsync(
        IReadOnlyDictionary<string, string?> settings, Action<WebApplicationBuilder> compose, Action<WebApplication> map, string environment = "Production",
        IReadOnlyDictionary<string, string?>? overrides = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = environment, ContentRootPath = AppContext.BaseDirectory });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(settings);
        if (overrides is not null)
        {
            builder.Configuration.AddInMemoryCollection(overrides);
        }

        compose(builder);

        var app = builder.Build();
        map(app);
        try
        {
            await app.StartAsync(TestContext.Current.CancellationToken);
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }

        return new InProcessApp(app);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await App.StopAsync(CancellationToken.None);
        await App.DisposeAsync();
    }
}
