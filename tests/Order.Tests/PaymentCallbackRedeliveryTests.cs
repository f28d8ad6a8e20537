using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using CloudScale.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace CloudScale.Order.Tests;

/// <summary>The payment simulator's callbacks are delivered again while the receiver cannot take them, as a provider's webhooks are.</summary>
public sealed class PaymentCallbackRedeliveryTests
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_callback_the_receiver_could_not_take_is_delivered_again_until_taken_and_a_refused_one_is_not()
    {
        // The receiver is down twice (503), then takes the callback; a refused one (404) is not sent again.
        var deliveries = new ConcurrentQueue<(string Route, JsonElement Body)>();
        await using var receiver = await InProcessApp.StartAsync(
            new Dictionary<string, string?>(StringComparer.Ordinal),
            _ => { },
            app =>
            {
                app.MapPost("/flaky", async (HttpRequest request) =>
                {
                    deliveries.Enqueue(("flaky", await request.ReadFromJsonAsync<JsonElement>()));
                    return deliveries.Count(delivery => delivery.Route == "flaky") <= 2 ? Results.StatusCode(503) : Results.Accepted();
                });
                app.MapPost("/refusing", async (HttpRequest request) =>
                {
                    deliveries.Enqueue(("refusing", await request.ReadFromJsonAsync<JsonElement>()));
                    return Results.NotFound();
                });
            });
        await using var simulator = await PaymentSimulatorService.StartPaymentSimulatorAsync(
            new Dictionary<string, string?>(StringComparer.Ordinal) { ["PaymentSimulator:LatencyMs"] = "0" });

        var refused = await AuthorizeAsync(simulator.Client, new Uri(receiver.BaseAddress, "/refusing"));
        var flaky = await AuthorizeAsync(simulator.Client, new Uri(receiver.BaseAddress, "/flaky"));

        // Redelivered after 1 s and 2 s: the third attempt is taken.
        await Poll.UntilAsync(() => deliveries.Count(delivery => delivery.Route == "flaky") >= 3, TimeSpan.FromSeconds(30), () => $"{deliveries.Count} deliveries");
        Assert.All(
            deliveries.Where(delivery => delivery.Route == "flaky"),
            delivery => Assert.Equal((flaky, "authorized"), (delivery.Body.GetProperty("paymentId").GetGuid(), delivery.Body.GetProperty("status").GetString())));
        // Both were first sent at once; a redelivery of the refused one would have come 1 s later, before the flaky one's third.
        Assert.Equal([refused], deliveries.Where(delivery => delivery.Route == "refusing").Select(delivery => delivery.Body.GetProperty("paymentId").GetGuid()));
        Assert.Equal(3, deliveries.Count(delivery => delivery.Route == "flaky"));
    }

    private static async Task<Guid> AuthorizeAsync(HttpClient simulator, Uri callbackUrl)
    {
        using var response = await simulator.PostAsJsonAsync("/payments/authorize", new { orderId = Guid.NewGuid(), amount = 42m, callbackUrl }, Cancellation);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>(Cancellation)).GetProperty("paymentId").GetGuid();
    }
}
