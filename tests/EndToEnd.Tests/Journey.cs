using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using CloudScale.Testing;

namespace CloudScale.EndToEnd.Tests;

/// <summary>The calls a customer's journey makes, and the waits between them, against a running <see cref="CloudScaleSystem"/>.</summary>
internal sealed class Journey(CloudScaleSystem system)
{
    /// <summary>How long a saga may take end to end on a busy two-core machine, compensation and retries included.</summary>
    public static readonly TimeSpan SagaDeadline = TimeSpan.FromSeconds(120);

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    /// <summary>A stay far enough ahead that no other test's stay overlaps it by accident.</summary>
    public static (DateOnly From, DateOnly To) Stay(int daysAhead = 30)
    {
        var from = DateOnly.FromDateTime(DateTime.UtcNow).AddDays(daysAhead);
        return (from, from.AddDays(2));
    }

    public static string NewCustomer() => "customer-" + Guid.NewGuid().ToString("N")[..12];

    public async Task<Guid> CreateRoomAsync()
    {
        using var response = await system.Booking.PostAsJsonAsync("/rooms",
            new { name = "Sea view", city = "Lisbon-" + Guid.NewGuid().ToString("N")[..8], capacity = 2, pricePerNight = 120 }, Cancellation);
        return (await response.ReadAsync<JsonElement>(HttpStatusCode.Created)).GetProperty("id").GetGuid();
    }

    /// <param name="traceParent">A W3C <c>traceparent</c> to place the order under, so that its trace can be found.</param>
    public async Task<HttpResponseMessage> SendOrderAsync(
        string customerId, Guid roomId, (DateOnly From, DateOnly To) stay, string? idempotencyKey = null, string? traceParent = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/orders")
        {
            Content = JsonContent.Create(new { customerId, roomId, from = stay.From, to = stay.To, amount = 240 }),
        };
        request.Headers.Add("Idempotency-Key", idempotencyKey ?? Guid.NewGuid().ToString());
        if (traceParent is not null)
        {
            request.Headers.Add("traceparent", traceParent);
        }

        return await system.Order.SendAsync(request, Cancellation);
    }

    public async Task<Guid> PlaceOrderAsync(string customerId, Guid roomId, (DateOnly From, DateOnly To) stay, string? traceParent = null)
    {
        using var response = await SendOrderAsync(customerId, roomId, stay, traceParent: traceParent);
        var order = await response.ReadAsync<JsonElement>(HttpStatusCode.Accepted);
        Assert.Equal($"/orders/{order.GetProperty("id").GetGuid()}", response.Headers.Location?.ToString());
        return order.GetProperty("id").GetGuid();
    }

    public async Task<JsonElement> GetOrderAsync(Guid orderId)
    {
        using var response = await system.Order.GetAsync($"/orders/{orderId}", Cancellation);
        return await response.ReadAsync<JsonElement>(HttpStatusCode.OK);
    }

    /// <summary>Waits until the order's saga has finished (compensation included) and returns GET /orders/{id} then.</summary>
    public Task<JsonElement> WaitForSagaEndAsync(Guid orderId) =>
        WaitForSagaAsync(orderId, saga => saga.GetProperty("runtimeStatus").GetString() is "COMPLETED" or "FAILED" or "TERMINATED");

    public Task<JsonElement> WaitForStepAsync(Guid orderId, string step) =>
        WaitForSagaAsync(orderId, saga => saga.GetProperty("step").GetString() == step);

    private Task<JsonElement> WaitForSagaAsync(Guid orderId, Func<JsonElement, bool> reached) =>
        Poll.UntilAsync(() => GetOrderAsync(orderId), details => reached(details.GetProperty("saga")), SagaDeadline);

    public async Task<string> ReservationStatusAsync(Guid reservationId)
    {
        using var response = await system.Booking.GetAsync($"/reservations/{reservationId}", Cancellation);
        return (await response.ReadAsync<JsonElement>(HttpStatusCode.OK)).GetProperty("status").GetString()!;
    }

    public async Task<string> PaymentStatusAsync(Guid paymentId)
    {
        using var response = await system.Payments.GetAsync($"/payments/{paymentId}", Cancellation);
        return (await response.ReadAsync<JsonElement>(HttpStatusCode.OK)).GetProperty("status").GetString()!;
    }

    /// <summary>Waits until the customer's notifications list one of <paramref name="kind"/> about the order; returns it.</summary>
    public async Task<JsonElement> WaitForNotificationAsync(string customerId, string kind, Guid orderId) =>
        (await Poll.UntilAsync(
            async () =>
            {
                using var response = await system.Notification.GetAsync($"/users/{customerId}/notifications", Cancellation);
                var page = await response.ReadAsync<JsonElement>(HttpStatusCode.OK);
                return page.GetProperty("items").EnumerateArray()
                    .Where(item => item.GetProperty("kind").GetString() == kind && item.GetProperty("body").GetString()!.Contains(orderId.ToString(), StringComparison.Ordinal))
                    .Select(item => (JsonElement?)item).FirstOrDefault();
            },
            notification => notification is not null,
            SagaDeadline))!.Value;
}
