using System.Net;
using System.Net.Http.Json;
using CloudScale.Order.Payments;
using CloudScale.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Polly.CircuitBreaker;

namespace CloudScale.Order.Tests;

public sealed class PaymentProviderClientTests
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_failing_provider_is_retried_then_cut_off_by_the_breaker_which_closes_once_it_recovers()
    {
        var requests = 0;
        await using var simulator = await PaymentSimulatorService.StartPaymentSimulatorAsync(
            new Dictionary<string, string?>(StringComparer.Ordinal) { ["PaymentSimulator:ErrorRate"] = "1", ["PaymentSimulator:LatencyMs"] = "0" },
            app => app.Use(async (context, next) =>
            {
                Interlocked.Increment(ref requests);
                await next(context);
            }));
        // Order's registration, with a breaker that opens after 4 calls at 50 % failures and tries again after 3 s (long
        // enough that a stalled machine cannot reach the trial call before the test has seen the breaker refuse).
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = "Production" });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["services:payments:http:0"] = simulator.BaseAddress.ToString(),
            [$"{PaymentProviderRegistration.ResilienceSection}:Retry:MaxRetryAttempts"] = "2",
            [$"{PaymentProviderRegistration.ResilienceSection}:Retry:Delay"] = "00:00:00.010",
            [$"{PaymentProviderRegistration.ResilienceSection}:CircuitBreaker:MinimumThroughput"] = "4",
            [$"{PaymentProviderRegistration.ResilienceSection}:CircuitBreaker:BreakDuration"] = "00:00:03",
        });
        builder.AddServiceDefaults();
        builder.AddPaymentProvider();
        using var host = builder.Build();
        var payments = host.Services.GetRequiredService<PaymentProviderClient>();
        var orderId = Guid.NewGuid();
        var callback = new Uri("http://127.0.0.1:9/payments/confirmations");

        // One call: the first attempt and two retries reach the provider, then its last error is the caller's.
        var failure = await Assert.ThrowsAsync<PaymentProviderException>(() => payments.AuthorizeAsync(orderId, 50m, callback, Cancellation));
        Assert.True(failure.StatusCode is 500 or 503, failure.Message);
        Assert.Equal(3, requests);

        // The fourth failure opens the breaker: the retry after it is refused without reaching the provider, and so is the next call.
        await Assert.ThrowsAsync<BrokenCircuitException>(() => payments.AuthorizeAsync(orderId, 50m, callback, Cancellation));
        await Assert.ThrowsAsync<BrokenCircuitException>(() => payments.AuthorizeAsync(orderId, 50m, callback, Cancellation));
        Assert.Equal(4, requests);

        using var recover = await simulator.Client.PutAsJsonAsync("/admin/behaviour", new { latencyMs = 0, declineRate = 0, errorRate = 0 }, Cancellation);
        Assert.Equal(HttpStatusCode.OK, recover.StatusCode);

        // After the break the breaker lets a trial call through; it succeeds and the breaker closes.
        var accepted = await Poll.UntilAsync(
            async () =>
            {
                try
                {
                    return await payments.AuthorizeAsync(orderId, 50m, callback, Cancellation);
                }
                catch (BrokenCircuitException)
                {
                    return null;
                }
            },
            accepted => accepted is not null,
            TimeSpan.FromSeconds(15));
        Assert.Equal(orderId, (await payments.GetAsync(accepted!.PaymentId, Cancellation)).OrderId);
    }
}
