using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace CloudScale.Order.Tests;

/// <summary>The calls and assertions the tests share: Order's API as a client sees it.</summary>
internal static class OrderClient
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

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

    public static Task<HttpResponseMessage> PostEmptyAsync(this HttpClient client, string path) => client.PostAsync(path, content: null, Cancellation);

    public static Task<HttpResponseMessage> FetchAsync(this HttpClient client, string path) => client.GetAsync(path, Cancellation);

    public static async Task<T> ReadAsync<T>(this HttpResponseMessage response, HttpStatusCode expected)
    {
        var body = await response.Content.ReadAsStringAsync(Cancellation);
        Assert.True(response.StatusCode == expected, $"Expected {expected}, got {response.StatusCode}: {body}");
        return JsonSerializer.Deserialize<T>(body, Json)!;
    }

    /// <summary>Asserts an RFC 9457 problem with the status (and <c>type</c>, when given); returns its body.</summary>
    public static async Task<JsonElement> ReadProblemAsync(this HttpResponseMessage response, HttpStatusCode expected, string? type = null)
    {
        var problem = await response.ReadAsync<JsonElement>(expected);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal((int)expected, problem.GetProperty("status").GetInt32());
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
        Assert.True(problem.TryGetProperty("errors", out var errors) && errors.TryGetProperty(field, out _), $"Expected an error for '{field}' in {problem}");
    }
}
