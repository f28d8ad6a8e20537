using CloudScale.Testing;
using Microsoft.Extensions.Logging;

namespace CloudScale.Order.Tests;

public sealed class ErrorHygieneTests(TestServers servers)
{
    [Fact]
    public async Task In_development_no_order_answer_carries_a_stack_trace_an_exception_type_or_a_request_header()
    {
        var logs = new ListLoggerProvider();
        await using var service = await OrderService.StartOrderAsync(
            await servers.CreateDatabaseAsync(), (await servers.RedisAsync()).ConnectionString, OrderService.NoSidecar(), logs: logs,
            environment: "Development");
        var id = Guid.NewGuid();

        await ErrorHygiene.AssertNothingLeaksAsync(
            service.Client,
            ["POST /orders", $"POST /orders/{id}/cancel", "POST /payment-confirmations"],
            ["/orders?customerId=ada&limit=many&cursor=%25zz", "/orders/not-a-guid"]);

        // Client mistakes are not the operator's errors.
        Assert.DoesNotContain(logs.Entries, entry => entry.Level >= LogLevel.Warning);
    }

    [Fact]
    public async Task In_development_no_payment_provider_answer_carries_a_stack_trace_an_exception_type_or_a_request_header()
    {
        await using var simulator = await PaymentSimulatorService.StartPaymentSimulatorAsync(
            new Dictionary<string, string?>(StringComparer.Ordinal), environment: "Development");

        await ErrorHygiene.AssertNothingLeaksAsync(
            simulator.Client,
            ["POST /payments/authorize", "PUT /admin/behaviour"],
            [$"/payments/{Guid.NewGuid()}?verbose=yes", "/payments/not-a-guid"]);
    }
}
