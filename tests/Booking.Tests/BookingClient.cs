using System.Net;
using System.Net.Http.Json;
using CloudScale.Testing;
using static CloudScale.Testing.ServiceResponses;
using CloudScale.Booking.Rooms;

namespace CloudScale.Booking.Tests;

/// <summary>The calls and assertions the tests share: Booking's API as a client sees it.</summary>
internal static class BookingClient
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    /// <summary>The night <paramref name="days"/> after today (UTC).</summary>
    public static DateOnly Night(int days) => DateOnly.FromDateTime(DateTime.UtcNow).AddDays(days);

    public static async Task<Room> CreateRoomAsync(
        this HttpClient client, string city = "Lisbon", decimal pricePerNight = 120m, int capacity = 2, string name = "Sea view")
    {
        using var response = await client.PostAsJsonAsync("/rooms", new { name, city, capacity, pricePerNight }, Json, Cancellation);
        return await response.ReadAsync<Room>(HttpStatusCode.Created);
    }

    public static async Task<HttpResponseMessage> UpdateRoomAsync(this HttpClient client, Guid roomId, object body, string? ifMatch)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, $"/rooms/{roomId}") { Content = JsonContent.Create(body, options: Json) };
        if (ifMatch is not null)
        {
            request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        }

        return await client.SendAsync(request, Cancellation);
    }

    public static Task<HttpResponseMessage> HoldAsync(
        this HttpClient client, Guid roomId, DateOnly from, DateOnly to, Guid? orderId = null, string customerId = "alice") =>
        client.PostAsJsonAsync("/reservations", new { roomId, customerId, from, to, orderId = orderId ?? Guid.NewGuid() }, Json, Cancellation);

    /// <summary>Posts <paramref name="json"/> as it is, for bodies a typed client could not produce.</summary>
    public static Task<HttpResponseMessage> PostJsonTextAsync(this HttpClient client, string path, string json) =>
        client.PostAsync(path, new StringContent(json, System.Text.Encoding.UTF8, "application/json"), Cancellation);
}
