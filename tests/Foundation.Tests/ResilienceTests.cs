using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Logging;
using Polly.CircuitBreaker;

namespace CloudScale.Foundation.Tests;

public sealed class ResilienceTests : IAsyncLifetime
{
    private readonly ConcurrentDictionary<string, ConcurrentQueue<DateTimeOffset>> _hits = new(StringComparer.Ordinal);
    private WebApplication? _upstream;

    public async ValueTask InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        _upstream = builder.Build();
        // /fails/{n}/{status}: answers status n times, then 200. /retry-after: 503 with Retry-After: 1 once, then 200.
        _upstream.MapGet("/fails/{times:int}/{status:int}", (int times, int status, HttpContext context) =>
            Hit(context) <= times ? Results.StatusCode(status) : Results.Text("ok"));
        _upstream.MapGet("/retry-after", (HttpContext context) =>
        {
            if (Hit(context) > 1)
            {
                return Results.Text("ok");
            }

            context.Response.Headers.RetryAfter = "1";
            return Results.StatusCode(StatusCodes.Status503ServiceUnavailable);
        });
        _upstream.MapPost("/fails/{times:int}/{status:int}", (int times, int status, HttpContext context) =>
            Hit(context) <= times ? Results.StatusCode(status) : Results.Text("ok"));
        await _upstream.StartAsync();
    }

    public async ValueTask DisposeAsync() => await _upstream!.DisposeAsync();

    [Fact]
    public async Task A_transient_503_is_retried_until_it_succeeds()
    {
        using var host = ClientHost(options => options.Retry.Delay = TimeSpan.FromMilliseconds(10));
        var client = host.Services.GetRequiredService<IHttpClientFactory>().CreateClient("upstream");

        var response = await client.GetAsync(Url("/fails/2/503"), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(3, HitsOf("/fails/2/503"));
    }

    [Fact]
    public async Task With_unsafe_methods_disabled_a_post_is_sent_once_and_a_get_still_retried()
    {
        using var host = ClientHost(options =>
        {
            options.Retry.Delay = TimeSpan.FromMilliseconds(10);
            options.Retry.DisableForUnsafeHttpMethods();
        });
        var client = host.Services.GetRequiredService<IHttpClientFactory>().CreateClient("upstream");

        using var post = await client.PostAsync(Url("/fails/1/503"), content: null, TestContext.Current.CancellationToken);
        using var get = await client.GetAsync(Url("/fails/1/500"), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, post.StatusCode);
        Assert.Equal(1, HitsOf("/fails/1/503"));
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Equal(2, HitsOf("/fails/1/500"));
    }

    [Fact]
    public async Task A_client_error_is_not_retried()
    {
        using var host = ClientHost(options => options.Retry.Delay = TimeSpan.FromMilliseconds(10));
        var client = host.Services.GetRequiredService<IHttpClientFactory>().CreateClient("upstream");

        var response = await client.GetAsync(Url("/fails/1/400"), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(1, HitsOf("/fails/1/400"));
    }

    [Fact]
    public async Task Retry_after_is_honoured_instead_of_the_backoff()
    {
        using var host = ClientHost(options => options.Retry.Delay = TimeSpan.FromMilliseconds(10));
        var client = host.Services.GetRequiredService<IHttpClientFactory>().CreateClient("upstream");

        var response = await client.GetAsync(Url("/retry-after"), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var attempts = _hits["/retry-after"].ToArray();
        Assert.Equal(2, attempts.Length);
        var gap = attempts[1] - attempts[0];
        Assert.True(gap >= TimeSpan.FromMilliseconds(950), $"The retry came {gap.TotalMilliseconds:0} ms after the 503, but Retry-After asked for 1 s.");
    }

    [Fact]
    public async Task The_circuit_opens_after_sustained_failures_and_stops_calling_the_upstream()
    {
        using var host = ClientHost(options =>
        {
            options.Retry.MaxRetryAttempts = 1;
            options.Retry.Delay = TimeSpan.FromMilliseconds(1);
            options.CircuitBreaker.MinimumThroughput = 5;
            options.CircuitBreaker.FailureRatio = 0.5;
            options.CircuitBreaker.BreakDuration = TimeSpan.FromMinutes(1);
        });
        var client = host.Services.GetRequiredService<IHttpClientFactory>().CreateClient("upstream");
        const string path = "/fails/1000/500";

        BrokenCircuitException? broken = null;
        for (var call = 0; call < 20 && broken is null; call++)
        {
            try
            {
                (await client.GetAsync(Url(path), TestContext.Current.CancellationToken)).Dispose();
            }
            catch (BrokenCircuitException exception)
            {
                broken = exception;
            }
        }

        Assert.NotNull(broken);
        var hitsWhenOpened = HitsOf(path);
        Assert.InRange(hitsWhenOpened, 5, 10);
        await Assert.ThrowsAsync<BrokenCircuitException>(() => client.GetAsync(Url(path), TestContext.Current.CancellationToken));
        Assert.Equal(hitsWhenOpened, HitsOf(path));
    }

    [Fact]
    public async Task Every_client_gets_the_standard_handler_without_asking_for_it()
    {
        using var host = ClientHost(configure: null);
        var client = host.Services.GetRequiredService<IHttpClientFactory>().CreateClient("upstream");

        var response = await client.GetAsync(Url("/fails/1/503"), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, HitsOf("/fails/1/503"));
    }

    /// <summary>A host with ServiceDefaults and the client "upstream": its own pipeline when <paramref name="configure"/> is given, else the default one.</summary>
    private static IHost ClientHost(Action<HttpStandardResilienceOptions>? configure)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.AddServiceDefaults();
        var upstream = builder.Services.AddHttpClient("upstream");
        if (configure is not null)
        {
            upstream.WithStandardResilience(configure);
        }

        return builder.Build();
    }

    private int Hit(HttpContext context)
    {
        var attempts = _hits.GetOrAdd(context.Request.Path.Value!, _ => new ConcurrentQueue<DateTimeOffset>());
        attempts.Enqueue(DateTimeOffset.UtcNow);
        return attempts.Count;
    }

    private int HitsOf(string path) => _hits.TryGetValue(path, out var queue) ? queue.Count : 0;

    private Uri Url(string path) => new(new Uri(_upstream!.Urls.First()), path);
}
