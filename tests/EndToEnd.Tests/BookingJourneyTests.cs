using System.Net;
using System.Text.Json;
using CloudScale.Testing;

namespace CloudScale.EndToEnd.Tests;

/// <summary>The booking saga across Order, Booking, the payment provider and Notification, each behind its own sidecar.</summary>
public sealed class BookingJourneyTests(CloudScaleSystem system) : IClassFixture<CloudScaleSystem>
{
    private readonly Journey _journey = new(system);

    [Fact]
    public async Task An_order_is_confirmed_booked_charged_notified_and_pushed_in_one_trace()
    {
        await system.SetPaymentBehaviourAsync(latencyMs: 100);
        var customer = Journey.NewCustomer();
        var room = await _journey.CreateRoomAsync();
        await using var stream = await NotificationStream.OpenAsync(system.Notification, customer);

        var orderId = await _journey.PlaceOrderAsync(customer, room, Journey.Stay());
        var details = await _journey.WaitForSagaEndAsync(orderId);

        var saga = details.GetProperty("saga");
        Assert.Equal(("confirmed", "COMPLETED", "confirmed"),
            (details.GetProperty("order").GetProperty("status").GetString(), saga.GetProperty("runtimeStatus").GetString(), saga.GetProperty("step").GetString()));
        Assert.Equal("confirmed", await _journey.ReservationStatusAsync(saga.GetProperty("reservationId").GetGuid()));
        Assert.Equal("captured", await _journey.PaymentStatusAsync(saga.GetProperty("paymentId").GetGuid()));
        Assert.Equal("pending,confirmed", string.Join(",", details.GetProperty("statusHistory").EnumerateArray().Select(change => change.GetProperty("status").GetString())));

        var pushed = await stream.NextAboutAsync(orderId, Journey.SagaDeadline);
        var listed = await _journey.WaitForNotificationAsync(customer, "order.confirmed", orderId);
        Assert.Equal(("order.confirmed", listed.GetProperty("id").GetGuid()), (pushed.GetProperty("kind").GetString(), pushed.GetProperty("id").GetGuid()));

        // One trace from the order request through Booking (via two sidecars) and the provider to Notification's handler.
        string[] services = ["order", "booking", "payments", "notification"];
        await Poll.UntilAsync(
            () => system.Telemetry.Spans.GroupBy(span => span.TraceId, StringComparer.Ordinal)
                .Any(trace => services.All(service => trace.Any(span => span.Service == service))),
            TimeSpan.FromSeconds(30),
            () => "Services per trace: " + string.Join("; ", system.Telemetry.Spans.GroupBy(span => span.TraceId, StringComparer.Ordinal)
                .Select(trace => string.Join(",", trace.Select(span => span.Service).Distinct(StringComparer.Ordinal)))));
    }

    [Fact]
    public async Task A_declined_payment_releases_the_hold_and_cancels_the_order()
    {
        await system.SetPaymentBehaviourAsync(latencyMs: 100, declineRate: 1);
        await AssertCompensatedAsync(await StartAsync(), "payment-declined", paymentStatus: "declined");
    }

    [Fact]
    public async Task A_failing_payment_provider_releases_the_hold_and_cancels_the_order()
    {
        await system.SetPaymentBehaviourAsync(latencyMs: 100, errorRate: 1);
        try
        {
            await AssertCompensatedAsync(await StartAsync(), "payment-failed", paymentStatus: null);
        }
        finally
        {
            await system.SetPaymentBehaviourAsync();
        }
    }

    [Fact]
    public async Task A_confirmation_that_never_comes_times_out_voids_the_payment_and_releases_the_hold()
    {
        await system.SetPaymentBehaviourAsync(latencyMs: (int)(CloudScaleSystem.PaymentConfirmationTimeout.TotalMilliseconds * 5));
        await AssertCompensatedAsync(await StartAsync(), "payment-timeout", paymentStatus: "voided");
    }

    [Fact]
    public async Task A_customer_cancelling_while_the_saga_waits_gets_everything_given_back()
    {
        await system.SetPaymentBehaviourAsync(latencyMs: (int)(CloudScaleSystem.PaymentConfirmationTimeout.TotalMilliseconds * 5));
        var order = await StartAsync();
        await _journey.WaitForStepAsync(order.Id, "awaiting-payment-confirmation");

        using var cancel = await system.Order.PostEmptyAsync($"/orders/{order.Id}/cancel");

        var cancelled = await cancel.ReadAsync<JsonElement>(HttpStatusCode.OK);
        Assert.Equal("customer-cancelled", cancelled.GetProperty("cancellationReason").GetString());
        await AssertCompensatedAsync(order, "customer-cancelled", paymentStatus: "voided");
    }

    [Fact]
    public async Task Of_fifty_concurrent_orders_for_one_slot_exactly_one_is_confirmed()
    {
        await system.SetPaymentBehaviourAsync(latencyMs: 100);
        var room = await _journey.CreateRoomAsync();
        var stay = Journey.Stay(daysAhead: 60);

        var orderIds = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => _journey.PlaceOrderAsync(Journey.NewCustomer(), room, stay)));
        var outcomes = await Task.WhenAll(orderIds.Select(_journey.WaitForSagaEndAsync));

        // The saga's runtime status is part of the key, so that a failed workflow shows as such rather than as a pending order.
        var byStatus = outcomes
            .GroupBy(details => (
                details.GetProperty("order").GetProperty("status").GetString(),
                details.GetProperty("order").GetProperty("cancellationReason").GetString(),
                details.GetProperty("saga").GetProperty("runtimeStatus").GetString()))
            .ToDictionary(group => group.Key, group => group.Count());
        Assert.Equal(
            new Dictionary<(string?, string?, string?), int> { [("confirmed", null, "COMPLETED")] = 1, [("cancelled", "room-unavailable", "COMPLETED")] = 49 },
            byStatus);
    }

    [Fact]
    public async Task A_repeated_idempotency_key_yields_one_order_and_one_saga()
    {
        await system.SetPaymentBehaviourAsync(latencyMs: 100);
        var customer = Journey.NewCustomer();
        var room = await _journey.CreateRoomAsync();
        var key = Guid.NewGuid().ToString();
        var stay = Journey.Stay(daysAhead: 90);

        var responses = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => _journey.SendOrderAsync(customer, room, stay, key)));
        var ids = await Task.WhenAll(responses.Select(async response =>
        {
            using (response)
            {
                return (await response.ReadAsync<JsonElement>(HttpStatusCode.Accepted)).GetProperty("id").GetGuid();
            }
        }));

        var orderId = Assert.Single(ids.Distinct());
        var details = await _journey.WaitForSagaEndAsync(orderId);
        Assert.Equal("confirmed", details.GetProperty("order").GetProperty("status").GetString());
        using var listing = await system.Order.FetchAsync($"/orders?customerId={customer}");
        Assert.Single((await listing.ReadAsync<JsonElement>(HttpStatusCode.OK)).GetProperty("items").EnumerateArray());
        await _journey.WaitForNotificationAsync(customer, "order.confirmed", orderId);
    }

    private async Task<PlacedOrder> StartAsync()
    {
        var customer = Journey.NewCustomer();
        return new PlacedOrder(await _journey.PlaceOrderAsync(customer, await _journey.CreateRoomAsync(), Journey.Stay()), customer);
    }

    /// <summary>
    /// The order ended cancelled for <paramref name="reason"/>, with nothing kept: its hold released, its payment (if any
    /// was authorized) in <paramref name="paymentStatus"/> and never captured, and the customer told.
    /// </summary>
    private async Task AssertCompensatedAsync(PlacedOrder order, string reason, string? paymentStatus)
    {
        var details = await _journey.WaitForSagaEndAsync(order.Id);

        var saga = details.GetProperty("saga");
        Assert.Equal(("cancelled", reason), (details.GetProperty("order").GetProperty("status").GetString(), details.GetProperty("order").GetProperty("cancellationReason").GetString()));
        Assert.Equal(("COMPLETED", "cancelled"), (saga.GetProperty("runtimeStatus").GetString(), saga.GetProperty("step").GetString()));
        Assert.Equal("released", await _journey.ReservationStatusAsync(saga.GetProperty("reservationId").GetGuid()));
        if (paymentStatus is null)
        {
            Assert.Equal(JsonValueKind.Null, saga.GetProperty("paymentId").ValueKind);
        }
        else
        {
            Assert.Equal(paymentStatus, await _journey.PaymentStatusAsync(saga.GetProperty("paymentId").GetGuid()));
        }

        var notification = await _journey.WaitForNotificationAsync(order.CustomerId, "order.cancelled", order.Id);
        Assert.Contains(reason, notification.GetProperty("body").GetString(), StringComparison.Ordinal);
    }

    private sealed record PlacedOrder(Guid Id, string CustomerId);
}
