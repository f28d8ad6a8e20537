using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace CloudScale.Foundation.Tests;

public sealed class ProblemDetailsTests
{
    private sealed record BookingRequest(string RoomId, int Nights);

    [Theory]
    [InlineData("{\"roomId\": \"r1\", \"nights\": ", "JSON")]
    [InlineData("{\"roomId\": \"r1\", \"nights\": \"three\"}", "$.nights")]
    [InlineData("not json at all", "JSON")]
    public async Task Malformed_or_mistyped_json_gets_a_400_problem_with_a_trace_id(string body, string expectedInDetail)
    {
        await using var service = await SampleService.StartAsync(MapSample);

        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        var response = await service.Client.PostAsync("/bookings", content, TestContext.Current.CancellationToken);

        var problem = await ReadProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains(expectedInDetail, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Matches("^[0-9a-f]{32}$", problem.GetProperty("traceId").GetString());
        Assert.Equal("POST /bookings", problem.GetProperty("instance").GetString());
    }

    [Fact]
    public async Task Valid_json_still_reaches_the_handler()
    {
        await using var service = await SampleService.StartAsync(MapSample);

        var response = await service.Client.PostAsJsonAsync("/bookings", new BookingRequest("r1", 3), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("r1:3", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task An_unhandled_exception_is_a_500_problem_without_internals_outside_development()
    {
        await using var service = await SampleService.StartAsync(MapSample);

        var response = await service.Client.GetAsync("/boom", TestContext.Current.CancellationToken);

        var problem = await ReadProblemAsync(response, HttpStatusCode.InternalServerError);
        var text = problem.GetRawText();
        Assert.DoesNotContain("secret-connection-detail", text, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", text, StringComparison.Ordinal);
        Assert.Matches("^[0-9a-f]{32}$", problem.GetProperty("traceId").GetString());
    }

    [Fact]
    public async Task Development_shows_the_exception_to_the_developer()
    {
        await using var service = await SampleService.StartAsync(MapSample, environment: "Development");

        var response = await service.Client.GetAsync("/boom", TestContext.Current.CancellationToken);

        var problem = await ReadProblemAsync(response, HttpStatusCode.InternalServerError);
        Assert.Contains("secret-connection-detail", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unknown_routes_and_oversized_bodies_are_problems_too()
    {
        await using var service = await SampleService.StartAsync(MapSample, configure: builder =>
            builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = 1024));

        await ReadProblemAsync(await service.Client.GetAsync("/no-such-route", TestContext.Current.CancellationToken), HttpStatusCode.NotFound);

        using var huge = new StringContent($"{{\"roomId\":\"{new string('x', 4096)}\",\"nights\":1}}", Encoding.UTF8, "application/json");
        var tooLarge = await service.Client.PostAsync("/bookings", huge, TestContext.Current.CancellationToken);
        await ReadProblemAsync(tooLarge, HttpStatusCode.RequestEntityTooLarge);
    }

    private static void MapSample(WebApplication app)
    {
        app.MapPost("/bookings", (BookingRequest request) => Results.Text($"{request.RoomId}:{request.Nights}"));
        app.MapGet("/boom", string () => throw new InvalidOperationException("secret-connection-detail"));
    }

    private static async Task<JsonElement> ReadProblemAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        Assert.Equal(expected, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        var problem = document.RootElement.Clone();
        Assert.Equal((int)expected, problem.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("title").GetString()));
        return problem;
    }
}
