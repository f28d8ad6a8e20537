using System.Net;
using System.Net.Http.Json;
using CloudScale.Testing;
using static CloudScale.Testing.ServiceResponses;

namespace CloudScale.Order.Tests;

/// <summary>The calls and assertions the tests share: Order's API as a client sees it.</summary>
internal static class OrderClient
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    /// <summary>The night <paramref name="days"/> after today (UTC).</summary>
    public static DateOnly Night(int days) => DateOnly.FromDateTime(DateTime.UtcNow).AddDays(days);

    /// <summary>A valid order body; tests change what they are about.</summary>
    public static object OrderBody(string customerId = "alice", Guid? roomId = null, int fromDays = 10, int nights = 2, decimal amount = 240m) =>
        new { customerId, roomId = roomId ?? Guid.Parse("0197a0b0-0000-7000-8000-000000000001"), from = Night(fromDays), to = Night(fromDays + nights), amount };

    public static async Task<HttpResponseMessage> PlaceOrderAsync(this HttpClient client, object body, string? idempotencyKey)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/orders") { Content = JsonContent.Create(body, options: Json) };
        if (idempotencyKey is not null)
        {
            request.Headers.TryAddWithoutValidation("Idempotency-Key", idempotencyKey);
        }

        return await client.SendAsync(request, Cancellation);
    }

    /// <summary>
    /// A pending order committed straight into <paramref name="database"/>, with no saga: what a crash between the
    /// order's commit and the saga's start leaves behind, or an order accepted while the sidecar was down.
    /// </summary>
    public static async Task<Guid> InsertPendingOrderAsync(string database, string customerId = "judy")
    {
        var orderId = Guid.CreateVersion7();
        await Sql.ExecuteAsync(database, """
            INSERT INTO orders (id, customer_id, room_id, stay_from, stay_to, amount, status, idempotency_key, request_hash)
            VALUES (@id, @customer, @room, current_date + 10, current_date + 12, 100, 'pending', @key, 'hash')
            """, ("id", orderId), ("customer", customerId), ("room", Guid.NewGuid()), ("key", Guid.NewGuid().ToString()));
        return orderId;
    }
}
