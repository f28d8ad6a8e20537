using CloudScale.Booking.Extensions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace CloudScale.Booking.Tests;

/// <summary>
/// The Booking service composed exactly as its Program.cs does, on a free loopback port, against real Postgres and
/// Redis. Several can run at once, as replicas do.
/// </summary>
internal sealed class BookingService : IAsyncDisposable
{
    private BookingService(WebApplication app)
    {
        App = app;
        Client = new HttpClient { BaseAddress = new Uri(app.Urls.First()), Timeout = TimeSpan.FromSeconds(30) };
    }

    public WebApplication App { get; }

    public HttpClient Client { get; }

    public static async Task<BookingService> StartAsync(string database, string redis, IReadOnlyDictionary<string, string?>? settings = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            EnvironmentName = "Production",
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["ConnectionStrings:bookingdb"] = database,
            ["ConnectionStrings:cache"] = redis,
        });
        builder.Configuration.AddInMemoryCollection(settings ?? new Dictionary<string, string?>(StringComparer.Ordinal));
        builder.AddServiceDefaults();
        builder.AddApplicationServices();

        var app = builder.Build();
        app.MapDefaultEndpoints();
        app.MapBookingApi();
        try
        {
            await app.StartAsync(TestContext.Current.CancellationToken);
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }

        return new BookingService(app);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await App.StopAsync(CancellationToken.None);
        await App.DisposeAsync();
    }
}
