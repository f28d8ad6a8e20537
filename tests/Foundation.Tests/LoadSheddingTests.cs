using System.Net;
using System.Threading.RateLimiting;
using CloudScale.ServiceDefaults.Errors;
using CloudScale.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace CloudScale.Foundation.Tests;

/// <summary>A service built with ServiceDefaults that serves one request at a time and lets one more wait.</summary>
public sealed class LoadSheddingTests
{
    private static readonly Dictionary<string, string?> OneAtATime = new(StringComparer.Ordinal)
    {
        ["ServiceDefaults:MaxConcurrentRequests"] = "1",
        ["ServiceDefaults:RequestQueueLimit"] = "1",
    };

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Beyond_the_requests_served_and_queued_one_is_shed_with_503_and_Retry_After_while_probes_still_answer()
    {
        var gate = new TaskCompletionSource();
        var entered = 0;
        await using var service = await SampleService.StartAsync(
            app => app.MapGet("/slow", async () =>
            {
                Interlocked.Increment(ref entered);
                await gate.Task;
                return "done";
            }),
            OneAtATime);

        var served = service.Client.GetStringAsync("/slow", Cancellation);
        await Poll.UntilAsync(() => Volatile.Read(ref entered) == 1, TimeSpan.FromSeconds(10));
        var queued = service.Client.GetStringAsync("/slow", Cancellation);
        await Poll.UntilAsync(() => QueuedRequests(service) == 1, TimeSpan.FromSeconds(10));

        using var shed = await service.Client.GetAsync("/slow", Cancellation);
        using var probe = await service.Client.GetAsync("/alive", Cancellation);

        var problem = await shed.ReadAsync<ProblemDetails>(HttpStatusCode.ServiceUnavailable);
        Assert.Equal(("overloaded", TimeSpan.FromSeconds(1)), (DomainProblem.ShortType(problem.Type), shed.Headers.RetryAfter?.Delta));
        Assert.True(problem.Extensions.ContainsKey("traceId"));
        Assert.Equal(HttpStatusCode.OK, probe.StatusCode);
        Assert.Equal(1, Volatile.Read(ref entered));

        gate.SetResult();
        Assert.Equal(["done", "done"], await Task.WhenAll(served, queued));
        Assert.Equal(2, Volatile.Read(ref entered));
    }

    [Fact]
    public async Task An_endpoint_with_rate_limiting_disabled_is_not_counted()
    {
        var gate = new TaskCompletionSource();
        var streaming = 0;
        await using var service = await SampleService.StartAsync(
            app =>
            {
                app.MapGet("/stream", async () =>
                {
                    Interlocked.Increment(ref streaming);
                    await gate.Task;
                    return "closed";
                }).DisableRateLimiting();
                app.MapGet("/quick", () => "quick");
            },
            new Dictionary<string, string?>(StringComparer.Ordinal) { ["ServiceDefaults:MaxConcurrentRequests"] = "1", ["ServiceDefaults:RequestQueueLimit"] = "0" });

        var streams = Enumerable.Range(0, 2).Select(_ => service.Client.GetStringAsync("/stream", Cancellation)).ToArray();
        await Poll.UntilAsync(() => Volatile.Read(ref streaming) == 2, TimeSpan.FromSeconds(10));

        Assert.Equal("quick", await service.Client.GetStringAsync("/quick", Cancellation));
        gate.SetResult();
        Assert.Equal(["closed", "closed"], await Task.WhenAll(streams));
    }

    [Theory]
    [InlineData("0", "1")]
    [InlineData("1", "-1")]
    public async Task Limits_that_cannot_serve_are_refused_at_start(string permits, string queue)
    {
        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => SampleService.StartAsync(
            _ => { },
            new Dictionary<string, string?>(StringComparer.Ordinal) { ["ServiceDefaults:MaxConcurrentRequests"] = permits, ["ServiceDefaults:RequestQueueLimit"] = queue }));

        Assert.Contains("ServiceDefaults:MaxConcurrentRequests must be positive", failure.Message, StringComparison.Ordinal);
    }

    private static long QueuedRequests(SampleService service) =>
        service.App.Services.GetRequiredService<IOptions<RateLimiterOptions>>().Value.GlobalLimiter!
            .GetStatistics(new DefaultHttpContext { Request = { Path = "/slow" } })?.CurrentQueuedCount ?? 0;
}
