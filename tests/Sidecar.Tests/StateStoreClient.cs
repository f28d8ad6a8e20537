using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace CloudScale.Sidecar.Tests;

/// <summary>The state API of one store through a sidecar, as the state tests of every store use it.</summary>
internal sealed class StateStoreClient(HttpClient client, string store)
{
    public string Store => store;

    public static StringContent Json(string body) => new(body, Encoding.UTF8, new MediaTypeHeaderValue("application/json"));

    public async Task SaveAsync(string body, HttpStatusCode expected, string query = "")
    {
        using var response = await client.PostAsync($"/v1.0/state/{store}{query}", Json(body), TestContext.Current.CancellationToken);
        Assert.True(expected == response.StatusCode, $"{response.StatusCode}: {await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)}");
    }

    public Task<HttpResponseMessage> PostAsync(string pathAndQuery, string body) =>
        client.PostAsync($"/v1.0/state/{store}{pathAndQuery}", Json(body), TestContext.Current.CancellationToken);

    public Task<HttpResponseMessage> GetAsync(string key) =>
        client.GetAsync($"/v1.0/state/{store}/{key}", TestContext.Current.CancellationToken);

    public async Task<string?> GetStringAsync(string key)
    {
        using var response = await GetAsync(key);
        return response.StatusCode == HttpStatusCode.NoContent ? null : await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
    }

    public async Task<string> GetETagAsync(string key)
    {
        using var response = await GetAsync(key);
        return response.Headers.GetValues("ETag").Single();
    }

    public async Task<HttpResponseMessage> DeleteAsync(string key, string? ifMatch)
    {
        using var request = new HttpRequestMessage(HttpMethod.Delete, $"/v1.0/state/{store}/{key}");
        if (ifMatch is not null)
        {
            request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        }

        return await client.SendAsync(request, TestContext.Current.CancellationToken);
    }

    /// <summary>Saves <paramref name="key"/>, lets two writers race on its etag, and asserts that exactly one of them got daprd's 409.</summary>
    public async Task AssertTwoWritersOnOneETagGetExactlyOne409Async(string key)
    {
        await SaveAsync($$"""[{"key":"{{key}}","value":0}]""", HttpStatusCode.NoContent);
        var etag = await GetETagAsync(key);
        var responses = await Task.WhenAll(Enumerable.Range(1, 2).Select(i =>
            client.PostAsync($"/v1.0/state/{store}", Json($$"""[{"key":"{{key}}","value":{{i}},"etag":"{{etag}}"}]"""), TestContext.Current.CancellationToken)));
        try
        {
            Assert.Equal([HttpStatusCode.NoContent, HttpStatusCode.Conflict], responses.Select(response => response.StatusCode).Order());
            using var conflict = JsonDocument.Parse(await responses.Single(response => response.StatusCode == HttpStatusCode.Conflict).Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
            Assert.Equal("ERR_STATE_SAVE", conflict.RootElement.GetProperty("errorCode").GetString());
            Assert.StartsWith($"failed saving state in state store {store}: possible etag mismatch. error from state store: ", conflict.RootElement.GetProperty("message").GetString(), StringComparison.Ordinal);
        }
        finally
        {
            Array.ForEach(responses, response => response.Dispose());
        }
    }
}

/// <summary>Assertions on daprd's error bodies.</summary>
internal static class DaprAssert
{
    /// <summary>Asserts the status, <c>errorCode</c> and, when given, <c>message</c>; returns the body for further checks.</summary>
    public static async Task<JsonDocument> ErrorAsync(HttpResponseMessage response, HttpStatusCode status, string errorCode, string? message = null)
    {
        using (response)
        {
            var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
            Assert.True(status == response.StatusCode, $"{response.StatusCode}: {text}");
            var body = JsonDocument.Parse(text);
            Assert.Equal(errorCode, body.RootElement.GetProperty("errorCode").GetString());
            if (message is not null)
            {
                Assert.Equal(message, body.RootElement.GetProperty("message").GetString());
            }

            return body;
        }
    }
}
