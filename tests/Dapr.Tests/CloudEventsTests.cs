using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace CloudScale.Dapr.Tests;

/// <summary>What a handler behind <c>UseCloudEvents()</c> sees of a CloudEvent delivered as <c>application/cloudevents+json</c>.</summary>
public sealed class CloudEventsFixture : IAsyncLifetime
{
    public TestApp App { get; private set; } = null!;

    public async ValueTask InitializeAsync() => App = await TestApp.StartAsync(app =>
    {
        app.UseCloudEvents();
        app.MapPost("/orders", (Order order, HttpContext context) => new
        {
            order,
            id = context.GetCloudEvent()?.GetProperty("id").GetString(),
            type = context.GetCloudEvent()?.GetProperty("type").GetString(),
        });
        app.MapPost("/raw", async (HttpRequest request) =>
        {
            using var body = new MemoryStream();
            await request.Body.CopyToAsync(body);
            return new { contentType = request.ContentType, body = Convert.ToBase64String(body.ToArray()), cloudEvent = request.HttpContext.GetCloudEvent() is not null };
        });
    });

    public async ValueTask DisposeAsync() => await App.DisposeAsync();
}

public sealed class CloudEventsTests(CloudEventsFixture fixture) : IClassFixture<CloudEventsFixture>
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_json_event_binds_its_data_and_keeps_the_envelope()
    {
        using var response = await PostAsync("/orders", """
            {"specversion":"1.0","id":"evt-1","source":"order","type":"order.created","datacontenttype":"application/json",
             "topic":"orders","pubsubname":"pubsub","data":{"id":"o-9","quantity":4,"status":"placed"}}
            """);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Cancellation));
        Assert.Equal(new Order("o-9", 4, "placed"), body.RootElement.GetProperty("order").Deserialize<Order>(JsonSerializerOptions.Web));
        Assert.Equal("evt-1", body.RootElement.GetProperty("id").GetString());
        Assert.Equal("order.created", body.RootElement.GetProperty("type").GetString());
    }

    [Theory]
    [InlineData("""{"datacontenttype":"text/plain","data":"hello"}""", "text/plain", "hello")]
    [InlineData("""{"datacontenttype":"application/json","data":"hello"}""", "application/json", "\"hello\"")]
    [InlineData("""{"data":{"n":1}}""", "application/json", """{"n":1}""")]
    [InlineData("""{"datacontenttype":"application/vnd.order+json; charset=utf-8","data":"x"}""", "application/vnd.order+json", "\"x\"")]
    [InlineData("""{"datacontenttype":"text/plain","data":42}""", "text/plain", "42")]
    [InlineData("""{"datacontenttype":"application/octet-stream","data_base64":"AAEC/w=="}""", "application/octet-stream", "\0\u0001\u0002\uFFFD")]
    public async Task The_body_becomes_the_data_as_its_content_type_says(string cloudEvent, string contentType, string body)
    {
        var seen = await RawAsync(cloudEvent);

        Assert.Equal(contentType, seen.GetProperty("contentType").GetString());
        Assert.Equal(body, Encoding.UTF8.GetString(seen.GetProperty("body").GetBytesFromBase64()));
        Assert.True(seen.GetProperty("cloudEvent").GetBoolean());
    }

    [Fact]
    public async Task An_event_without_data_gives_an_empty_body()
    {
        var seen = await RawAsync("""{"id":"evt-2","type":"ping"}""");

        Assert.Equal(JsonValueKind.Null, seen.GetProperty("contentType").ValueKind);
        Assert.Equal("", seen.GetProperty("body").GetString());
    }

    [Fact]
    public async Task Other_requests_pass_untouched()
    {
        using var request = new StringContent("""{"data":"not unwrapped"}""", Encoding.UTF8, "application/json");
        using var response = await fixture.App.Client.PostAsync("/raw", request, Cancellation);
        using var seen = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Cancellation));

        Assert.Equal("application/json; charset=utf-8", seen.RootElement.GetProperty("contentType").GetString());
        Assert.Equal("""{"data":"not unwrapped"}""", Encoding.UTF8.GetString(seen.RootElement.GetProperty("body").GetBytesFromBase64()));
        Assert.False(seen.RootElement.GetProperty("cloudEvent").GetBoolean());
    }

    [Theory]
    [InlineData("""{"data":"a","data_base64":"YQ=="}""")]
    [InlineData("""{"data_base64":"not base64!"}""")]
    [InlineData("""["not","an","object"]""")]
    [InlineData("""{"data": """)]
    public async Task A_malformed_cloud_event_gets_a_400_problem(string cloudEvent)
    {
        using var response = await PostAsync("/raw", cloudEvent);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Cancellation));
        Assert.Equal("Invalid CloudEvent", problem.RootElement.GetProperty("title").GetString());
    }

    private async Task<HttpResponseMessage> PostAsync(string path, string cloudEvent)
    {
        using var content = new StringContent(cloudEvent, Encoding.UTF8, "application/cloudevents+json");
        return await fixture.App.Client.PostAsync(path, content, Cancellation);
    }

    private async Task<JsonElement> RawAsync(string cloudEvent)
    {
        using var response = await PostAsync("/raw", cloudEvent);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var seen = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Cancellation));
        return seen.RootElement.Clone();
    }
}
