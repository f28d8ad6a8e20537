using System.Net;
using System.Text;
using System.Text.Json;
using CloudScale.Testing;
using CsCheck;

namespace CloudScale.Sidecar.Tests;

/// <summary>A sidecar with state and pub/sub on Redis, for bodies nobody would send on purpose.</summary>
public sealed class FuzzFixture(TestServers servers) : RedisSidecarFixture(servers, "fuzz")
{
    private protected override (string File, string Yaml)[] Resources(string redisHost) =>
    [
        ("state.yaml", SidecarResources.RedisStateStore("statestore", redisHost)),
        ("pubsub.yaml", SidecarResources.RedisPubSub("pubsub", redisHost)),
    ];
}

/// <summary>
/// Random JSON, biased to the field names and values the sidecar's bodies use (in any case), and malformed text, sent to
/// every route that reads a body or a query: each answer is a 2xx or daprd's error body for it (a 4xx, or the 500
/// ERR_STATE_* daprd gives a store's refusal), never the catch-all 500 ERROR of an unhandled exception, and nothing
/// outside what a body names is changed. CsCheck shrinks a failing body to a small one and prints it with the
/// seed that reproduces it.
/// </summary>
public sealed class HttpApiFuzzTests(FuzzFixture fixture) : IClassFixture<FuzzFixture>
{
    private const int Iterations = 2000;

    private static readonly string[] FieldNames =
    [
        "key", "Key", "KEY", "value", "Value", "etag", "ETag", "options", "Options", "concurrency", "consistency", "metadata",
        "ttlInSeconds", "contentType", "operation", "Operation", "request", "operations", "keys", "parallelism", "entryId",
        "event", "data", "datacontenttype", "id", "type", "source", "specversion",
    ];

    private static readonly string[] Words =
    [
        "", "||", "a||b", "upsert", "delete", "get", "first-write", "last-write", "strong", "eventual", "1", "-1", "0",
        "99999999999999999999", "application/json", "text/plain", "application/cloudevents+json", "statestore", "pubsub", "\u0000", "é😀",
    ];

    private static readonly Gen<string> Text = FuzzJson.Text(Words);

    private static readonly Gen<string> Body = FuzzJson.Bodies(FieldNames, Words);

    private static readonly Gen<string> QueryValue = Text.Select(Uri.EscapeDataString);

    private static readonly Gen<string> ContentType = FuzzJson.HeaderValue(Words);

    private HttpClient Sidecar => fixture.Sidecar.Http;

    [Fact]
    public async Task State_writes_and_reads_answer_2xx_or_a_dapr_error_and_leave_other_keys_alone()
    {
        var sentinel = fixture.Unique("sentinel");
        await new StateStoreClient(Sidecar, "statestore").SaveAsync($$$"""[{"key":"{{{sentinel}}}","value":{"kept":true}}]""", HttpStatusCode.NoContent);

        await Gen.Select(Gen.OneOf("", "/bulk", "/transaction"), Body, QueryValue).SampleAsync(
            async (route, body, ttl) => await AssertAnsweredAsync(HttpMethod.Post, $"/v1.0/state/statestore{route}?metadata.ttlInSeconds={ttl}", body),
            iter: Iterations, threads: 1);
        await Gen.Select(Text, QueryValue, Gen.OneOf(HttpMethod.Get, HttpMethod.Delete)).SampleAsync(
            async (key, consistency, method) => await AssertAnsweredAsync(method, $"/v1.0/state/statestore/{Uri.EscapeDataString(key)}?consistency={consistency}", body: null),
            iter: Iterations, threads: 1);

        Assert.Equal("""{"kept":true}""", await new StateStoreClient(Sidecar, "statestore").GetStringAsync(sentinel));
    }

    [Fact]
    public async Task Publishing_answers_2xx_or_a_dapr_error_whatever_the_body_and_content_type()
    {
        var topic = fixture.Unique("fuzzed");
        await Gen.Select(Gen.OneOf($"/v1.0/publish/pubsub/{topic}", $"/v1.0-alpha1/publish/bulk/pubsub/{topic}"), Body, ContentType, QueryValue).SampleAsync(
            async (route, body, contentType, metadata) => await AssertAnsweredAsync(HttpMethod.Post, $"{route}?metadata.rawPayload={metadata}", body, contentType),
            iter: Iterations, threads: 1);
    }

    private async Task AssertAnsweredAsync(HttpMethod method, string pathAndQuery, string? body, string contentType = "application/json")
    {
        using var request = new HttpRequestMessage(method, pathAndQuery);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8);
            request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        }

        using var response = await Sidecar.SendAsync(request, TestContext.Current.CancellationToken);
        var answer = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        var status = (int)response.StatusCode;
        // A path no route takes (an empty key, a key of "..") or one Kestrel refuses gets a bare 400, 404 or 405.
        if (status is 400 or 404 or 405 && answer.Length == 0)
        {
            return;
        }

        Assert.True(status is >= 200 and < 300 or >= 400, $"{method} {pathAndQuery} answered {status}: {answer}");
        if (status >= 400)
        {
            using var error = JsonDocument.Parse(answer);
            var code = error.RootElement.TryGetProperty("errorCode", out var errorCode) ? errorCode.GetString() : null;
            // daprd answers a store's refusal of a request (an unknown consistency, a bad ttlInSeconds) with a 500
            // ERR_STATE_*; only its catch-all ERROR means the request was not understood at all.
            Assert.True(code is not null && code.StartsWith("ERR_", StringComparison.Ordinal) && (status < 500 || code.StartsWith("ERR_STATE_", StringComparison.Ordinal)),
                $"{method} {pathAndQuery} answered {status}: {answer}");
        }
    }
}
