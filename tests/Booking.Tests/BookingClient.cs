using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;
using CloudScale.Booking.Rooms;

namespace CloudScale.Booking.Tests;

/// <summary>The calls and assertions the tests share: Booking's API as a client sees it.</summary>
internal static class BookingClient
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

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

    public static Task<HttpResponseMessage> PostEmptyAsync(this HttpClient client, string path) => client.PostAsync(path, content: null, Cancellation);

    public static Task<HttpResponseMessage> FetchAsync(this HttpClient client, string path) => client.GetAsync(path, Cancellation);

    public static async Task<T> ReadAsync<T>(this HttpResponseMessage response, HttpStatusCode expected)
    {
        var body = await response.Content.ReadAsStringAsync(Cancellation);
        Assert.True(response.StatusCode == expected, $"Expected {expected}, got {response.StatusCode}: {body}");
        return JsonSerializer.Deserialize<T>(body, Json)!;
    }

    /// <summary>Asserts an RFC 9457 problem with the status (and <c>type</c>, when given) and a trace id; returns its body.</summary>
    public static async Task<JsonElement> ReadProblemAsync(this HttpResponseMessage response, HttpStatusCode expected, string? type = null)
    {
        var problem = await response.ReadAsync<JsonElement>(expected);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal((int)expected, problem.GetProperty("status").GetInt32());
        Assert.Matches("^[0-9a-f]{32}$", problem.GetProperty("traceId").GetString());
        if (type is not null)
        {
            Assert.Equal("https://cloudscale.dev/problems/" + type, problem.GetProperty("type").GetString());
        }

        return problem;
    }

    /// <summary>Asserts a 400 validation problem with an error for <paramref name="field"/>.</summary>
    public static async Task AssertFieldErrorAsync(this HttpResponseMessage response, string field)
    {
        var problem = await response.ReadProblemAsync(HttpStatusCode.BadRequest);
        Assert.True(
            problem.TryGetProperty("errors", out var errors) && errors.TryGetProperty(field, out _),
            $"Expected an error for '{field}' in {problem}");
    }
}
