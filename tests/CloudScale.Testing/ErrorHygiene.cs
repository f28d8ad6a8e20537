using System.Net;
using System.Text;
using Xunit;

namespace CloudScale.Testing;

/// <summary>
/// Sends a service what a new user (or an attacker) might: malformed JSON, JSON of the wrong types, query values of the
/// wrong types, an oversized header and an over-long URL, each carrying a secret in the headers a sidecar sends, and
/// checks that no answer is a 5xx or carries a stack trace, an exception's type, a CLR type name or any request header.
/// </summary>
public static class ErrorHygiene
{
    /// <summary>Sent as the sidecar's API token and in a header of its own: neither may come back.</summary>
    public const string Secret = "hygiene-secret-7d41c2";

    private static readonly string[] Bodies =
    [
        "{\"roomId\": ",
        "not json at all",
        "{\"roomId\":\"not-a-guid\",\"orderId\":42,\"from\":true,\"to\":[],\"amount\":\"lots\",\"customerId\":{},\"capacity\":\"two\",\"pricePerNight\":\"x\",\"latencyMs\":\"slow\"}",
        "[1,2,3]",
    ];

    // A header dump would show the made-up header's name; the token's name alone may appear, in an answer saying it is wrong.
    private static readonly string[] Leaks = [Secret, "Exception", "   at ", "System.", "X-Probe"];

    /// <param name="bodyPaths">"METHOD /path" of endpoints that read a JSON body.</param>
    /// <param name="queryPaths">GET paths with query values of the wrong type.</param>
    public static async Task AssertNothingLeaksAsync(HttpClient client, IEnumerable<string> bodyPaths, IEnumerable<string> queryPaths)
    {
        foreach (var endpoint in bodyPaths)
        {
            var (method, path) = (new HttpMethod(endpoint.Split(' ')[0]), endpoint.Split(' ')[1]);
            foreach (var body in Bodies)
            {
                await AssertCleanAsync(client, method, path, new StringContent(body, Encoding.UTF8, "application/json"));
            }

            await AssertCleanAsync(client, method, path, new StringContent("{}", Encoding.UTF8, "text/plain"));
        }

        foreach (var path in queryPaths)
        {
            await AssertCleanAsync(client, HttpMethod.Get, path, content: null);
        }

        await AssertCleanAsync(client, HttpMethod.Get, "/" + new string('a', 16 * 1024), content: null);
        await AssertCleanAsync(client, HttpMethod.Get, "/health", content: null, oversizedHeader: true);
    }

    private static async Task AssertCleanAsync(HttpClient client, HttpMethod method, string path, HttpContent? content, bool oversizedHeader = false)
    {
        using var request = new HttpRequestMessage(method, path) { Content = content };
        request.Headers.TryAddWithoutValidation("dapr-api-token", Secret);
        request.Headers.TryAddWithoutValidation("X-Probe", Secret);
        request.Headers.TryAddWithoutValidation("Idempotency-Key", Secret);
        if (oversizedHeader)
        {
            request.Headers.TryAddWithoutValidation("X-Probe-Large", Secret + new string('b', 64 * 1024));
        }

        using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        var what = $"{method} {path[..Math.Min(path.Length, 60)]} answered {(int)response.StatusCode}: {body}";

        Assert.True((int)response.StatusCode < 500, what);
        Assert.All(Leaks, leak => Assert.DoesNotContain(leak, body, StringComparison.OrdinalIgnoreCase));
        Assert.All(response.Headers.Concat(response.Content.Headers), header => Assert.All(header.Value, value =>
            Assert.DoesNotContain(Secret, value, StringComparison.Ordinal)));
        if (body.Length > 0 && response.StatusCode != HttpStatusCode.OK)
        {
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }
    }
}
