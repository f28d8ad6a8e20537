using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Aspire.Hosting.Dapr;
using CloudScale.Order.Orders;
using CloudScale.Order.Payments;
using CloudScale.ServiceDefaults.Errors;
using CloudScale.Testing;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Logging;
using static CloudScale.Order.Tests.OrderClient;

namespace CloudScale.Order.Tests;

/// <summary>
/// Order while a dependency is down: its sidecar (the SDK's workflow client waits for a sidecar until it is back, so
/// without BookingSaga:SidecarTimeout, half a second here, these requests would get no answer at all), or the payment
/// provider.
/// </summary>
public sealed class DependencyOutageTests(TestServers servers)
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task An_order_is_accepted_with_its_saga_left_to_the_recovery_pass_and_reading_it_answers_503()
    {
        var logs = new ListLoggerProvider();
        var database = await servers.CreateDatabaseAsync();
        await using var order = await StartOrderAsync(database, logs);

        using var placed = await order.Client.PlaceOrderAsync(OrderBody(customerId: "sidecarless"), Guid.NewGuid().ToString());

        var accepted = await placed.ReadAsync<CustomerOrder>(HttpStatusCode.Accepted);
        Assert.Equal("pending", await Sql.ScalarAsync<string>(database, "SELECT status FROM orders WHERE id = @id", ("id", accepted.Id)));
        Assert.Contains(logs.Entries, entry => entry.Level == LogLevel.Warning
            && entry.Message == $"The booking saga of order {accepted.Id} was not started: the sidecar did not answer; the recovery pass starts it once it does");

        using var read = await order.Client.FetchAsync($"/orders/{accepted.Id}");
        await AssertSagaUnavailableAsync(read);
    }

    [Fact]
    public async Task A_payment_confirmation_answers_503_so_that_the_provider_delivers_it_again()
    {
        await using var simulator = await PaymentSimulatorService.StartPaymentSimulatorAsync(
            new Dictionary<string, string?>(StringComparer.Ordinal) { ["PaymentSimulator:LatencyMs"] = "0" });
        await using var order = await StartOrderAsync(await servers.CreateDatabaseAsync(), new ListLoggerProvider(),
            ("services:payments:http:0", simulator.BaseAddress.ToString()));
        // An authorized payment whose callback goes nowhere: the test delivers it itself.
        using var authorized = await simulator.Client.PostAsJsonAsync(
            "/payments/authorize", new { orderId = Guid.NewGuid(), amount = 42m, callbackUrl = "http://127.0.0.1:9/payment-confirmations" }, Cancellation);
        var paymentId = (await authorized.ReadAsync<JsonElement>(HttpStatusCode.Accepted)).GetProperty("paymentId").GetGuid();
        await Poll.UntilAsync(
            async () => (await (await simulator.Client.FetchAsync($"/payments/{paymentId}")).ReadAsync<JsonElement>(HttpStatusCode.OK)).GetProperty("status").GetString() == "authorized",
            TimeSpan.FromSeconds(10));

        using var confirmation = await order.Client.PostAsJsonAsync("/payment-confirmations", new { paymentId }, Cancellation);

        await AssertSagaUnavailableAsync(confirmation);
    }

    [Fact]
    public async Task A_payment_confirmation_answers_503_while_the_provider_cannot_be_asked()
    {
        await using var order = await StartOrderAsync(await servers.CreateDatabaseAsync(), new ListLoggerProvider(),
            ("services:payments:http:0", $"http://127.0.0.1:{LoopbackPorts.Free()}"),
            ($"{PaymentProviderRegistration.ResilienceSection}:Retry:MaxRetryAttempts", "1"),
            ($"{PaymentProviderRegistration.ResilienceSection}:Retry:Delay", "00:00:00.010"));
        var paymentId = Guid.NewGuid();

        using var confirmation = await order.Client.PostAsJsonAsync("/payment-confirmations", new { paymentId }, Cancellation);

        var problem = await confirmation.ReadAsync<ProblemDetails>(HttpStatusCode.ServiceUnavailable);
        Assert.Equal(("payment-provider-unavailable", TimeSpan.FromSeconds(5)), (DomainProblem.ShortType(problem.Type), confirmation.Headers.RetryAfter?.Delta));
        Assert.Contains(paymentId.ToString(), problem.Detail, StringComparison.Ordinal);
    }

    private async Task<InProcessApp> StartOrderAsync(string database, ListLoggerProvider logs, params (string Key, string Value)[] settings)
    {
        var configuration = new Dictionary<string, string?>(StringComparer.Ordinal) { ["BookingSaga:SidecarTimeout"] = "00:00:00.500" };
        foreach (var (key, value) in settings)
        {
            configuration[key] = value;
        }

        var order = await OrderService.StartOrderAsync(database, (await servers.RedisAsync()).ConnectionString, OrderService.NoSidecar(), configuration, logs: logs);
        // A request the sidecar holds fails the test here rather than after the default 100 s.
        order.Client.Timeout = TimeSpan.FromSeconds(20);
        return order;
    }

    private static async Task AssertSagaUnavailableAsync(HttpResponseMessage response)
    {
        var problem = await response.ReadAsync<ProblemDetails>(HttpStatusCode.ServiceUnavailable);
        Assert.Equal("saga-unavailable", DomainProblem.ShortType(problem.Type));
        Assert.Equal(TimeSpan.FromSeconds(5), response.Headers.RetryAfter?.Delta);
    }
}
