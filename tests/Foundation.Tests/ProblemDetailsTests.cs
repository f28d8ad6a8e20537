using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using CloudScale.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace CloudScale.Foundation.Tests;

public sealed class ProblemDetailsTests
{
    private sealed record BookingRequest(string RoomId, int Nights);

    [Theory]
    [InlineData("{\"roomId\": \"r1\", \"nights\": ")]
    [InlineData("not json at all")]
    public async Task Malformed_json_gets_a_400_problem_saying_where_with_a_trace_id(string body)
    {
        await using var service = await SampleService.StartAsync(MapSample);

        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        var response = await service.Client.PostAsync("/bookings", content, TestContext.Current.CancellationToken);

        var problem = await ReadProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal("The request body is not valid JSON", problem.GetProperty("title").GetString());
        Assert.StartsWith("The JSON could not be read at line 1, byte ", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Matches("^[0-9a-f]{32}$", problem.GetProperty("traceId").GetString());
        Assert.Equal("POST /bookings", problem.GetProperty("instance").GetString());
    }

    [Theory]
    [InlineData("{\"roomId\": \"r1\", \"nights\": \"three\"}", "nights")]
    [InlineData("{\"roomId\": 12, \"nights\": 3}", "roomId")]
    public async Task A_value_of_the_wrong_type_is_a_field_error(string body, string field)
    {
        await using var service = await SampleService.StartAsync(MapSample);

        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        var problem = await ReadProblemAsync(await service.Client.PostAsync("/bookings", content, TestContext.Current.CancellationToken), HttpStatusCode.BadRequest);

        Assert.Equal(field, Assert.Single(problem.GetProperty("errors").EnumerateObject()).Name);
        Assert.DoesNotContain("System.", problem.GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_query_value_of_the_wrong_type_is_a_field_error_that_does_not_echo_it()
    {
        await using var service = await SampleService.StartAsync(MapSample);

        var problem = await ReadProblemAsync(await service.Client.GetAsync("/nights?count=secret-value", TestContext.Current.CancellationToken), HttpStatusCode.BadRequest);

        Assert.True(problem.GetProperty("errors").TryGetProperty("count", out _), problem.GetRawText());
        Assert.DoesNotContain("secret-value", problem.GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task In_development_a_bad_body_is_the_same_problem_and_is_not_logged_as_an_error()
    {
        var logs = new ListLoggerProvider();
        await using var service = await SampleService.StartAsync(MapSample, configure: builder => builder.Logging.AddProvider(logs), environment: "Development");

        using var request = new HttpRequestMessage(HttpMethod.Post, "/bookings") { Content = new StringContent("{\"nights\": ", Encoding.UTF8, "application/json") };
        request.Headers.Add("dapr-api-token", "token-a-sidecar-sent");
        var problem = await ReadProblemAsync(await service.Client.SendAsync(request, TestContext.Current.CancellationToken), HttpStatusCode.BadRequest);

        var text = problem.GetRawText();
        Assert.DoesNotContain("token-a-sidecar-sent", text, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", text, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", text, StringComparison.Ordinal);
        Assert.DoesNotContain(logs.Entries, entry => entry.Level >= LogLevel.Warning);
        Assert.Contains(logs.Entries, entry => entry.Level == LogLevel.Information && entry.Message.StartsWith("Rejected POST /bookings with 400", StringComparison.Ordinal));
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
    public async Task In_development_an_unhandled_exception_is_the_same_500_without_internals()
    {
        await using var service = await SampleService.StartAsync(MapSample, environment: "Development");

        var response = await service.Client.GetAsync("/boom", TestContext.Current.CancellationToken);

        var text = (await ReadProblemAsync(response, HttpStatusCode.InternalServerError)).GetRawText();
        Assert.DoesNotContain("secret-connection-detail", text, StringComparison.Ordinal);
        Assert.DoesNotContain("InvalidOperationException", text, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", text, StringComparison.Ordinal);
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
        app.MapGet("/nights", (int count) => Results.Text($"{count}"));
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
