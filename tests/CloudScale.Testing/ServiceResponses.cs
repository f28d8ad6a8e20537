using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization;
using Xunit;

namespace CloudScale.Testing;

/// <summary>How the service tests call a CloudScale service and check what it answered.</summary>
public static class ServiceResponses
{
    /// <summary>The services' JSON: web defaults, enums as camel-case strings.</summary>
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    public static Task<HttpResponseMessage> PostEmptyAsync(this HttpClient client, string path) => client.PostAsync(path, content: null, Cancellation);

    public static Task<HttpResponseMessage> FetchAsync(this HttpClient client, string path) => client.GetAsync(path, Cancellation);

    /// <summary>Asserts the status (showing the body when it differs) and reads the body as <typeparamref name="T"/>.</summary>
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

    /// <summary>
    /// Sends <paramref name="request"/> and asserts the answer is one of <paramref name="successes"/> or a 4xx RFC 9457
    /// problem carrying its status and a trace id: what any input, however wrong, must get from a service.
    /// </summary>
    public static async Task AssertSuccessOrClientProblemAsync(this HttpClient client, HttpRequestMessage request, params HttpStatusCode[] successes)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(request);
        using var response = await client.SendAsync(request, Cancellation);
        if (successes.Contains(response.StatusCode))
        {
            return;
        }

        var answer = await response.Content.ReadAsStringAsync(Cancellation);
        var status = (int)response.StatusCode;
        Assert.True(status is >= 400 and < 500 && response.Content.Headers.ContentType?.MediaType == "application/problem+json",
            $"{request.Method} {request.RequestUri} answered {status} ({response.Content.Headers.ContentType}): {answer}");
        using var problem = JsonDocument.Parse(answer);
        Assert.Equal(status, problem.RootElement.GetProperty("status").GetInt32());
        Assert.True(problem.RootElement.TryGetProperty("traceId", out _), answer);
    }
}
