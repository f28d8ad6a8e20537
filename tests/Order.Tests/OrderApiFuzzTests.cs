using System.Net;
using System.Text;
using System.Text.Json;
using CloudScale.Testing;
using CsCheck;

namespace CloudScale.Order.Tests;

/// <summary>
/// Random and broken bodies, keys and queries, biased to what Order reads: every answer is a success or an RFC 9457
/// problem with a 4xx status and a trace id, never a 5xx. CsCheck shrinks a failure to its smallest input and prints the
/// seed that reproduces it.
/// </summary>
public sealed class OrderApiFuzzTests(OrderServiceFixture order) : IClassFixture<OrderServiceFixture>
{
    private const int Iterations = 1000;

    private static readonly string[] FieldNames = ["customerId", "CustomerId", "roomId", "from", "to", "amount", "Amount"];

    private static readonly string[] Words =
    [
        "", " ", "ada", Guid.NewGuid().ToString(), Guid.Empty.ToString(), "2030-01-01", "2030-01-03", "2020-01-01", "2030-02-30",
        "0", "-5", "240", "0.001", "1000000.01", "abc", new string('x', 300), "\u0000", "é😀",
    ];

    // Without NUL: Kestrel refuses a request target that decodes to one with a bare 400 before any middleware runs.
    private static readonly Gen<string> PathText = FuzzJson.Text(Words).Select(text => text.Replace("\0", "", StringComparison.Ordinal));

    [Fact]
    public async Task Placing_an_order_answers_202_or_a_4xx_problem_whatever_the_body_and_key()
    {
        await Gen.Select(FuzzJson.Bodies(FieldNames, Words), FuzzJson.HeaderValue(Words), Gen.Bool).SampleAsync(
            async (body, key, withKey) =>
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, "/orders") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
                if (withKey)
                {
                    request.Headers.TryAddWithoutValidation("Idempotency-Key", key);
                }

                await AssertAnsweredAsync(request, HttpStatusCode.Accepted);
            },
            iter: Iterations, threads: 1);
    }

    [Fact]
    public async Task Listing_reading_and_cancelling_answer_success_or_a_4xx_problem_whatever_the_query_and_id()
    {
        await Gen.Select(PathText, PathText, PathText, Gen.OneOf("/orders?customerId={0}&limit={1}&cursor={2}", "/orders/{0}", "/orders/{0}/cancel")).SampleAsync(
            async (first, second, third, template) =>
            {
                var path = string.Format(System.Globalization.CultureInfo.InvariantCulture, template,
                    Uri.EscapeDataString(first), Uri.EscapeDataString(second), Uri.EscapeDataString(third));
                using var request = new HttpRequestMessage(template.EndsWith("/cancel", StringComparison.Ordinal) ? HttpMethod.Post : HttpMethod.Get, path);
                await AssertAnsweredAsync(request, HttpStatusCode.OK);
            },
            iter: Iterations, threads: 1);
    }

    private async Task AssertAnsweredAsync(HttpRequestMessage request, HttpStatusCode success)
    {
        using var response = await order.Client.SendAsync(request, TestContext.Current.CancellationToken);
        var answer = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        var status = (int)response.StatusCode;
        if (response.StatusCode == success)
        {
            return;
        }

        Assert.True(status is >= 400 and < 500, $"{request.Method} {request.RequestUri} answered {status}: {answer}");
        Assert.True(response.Content.Headers.ContentType?.MediaType == "application/problem+json",
            $"{request.Method} {request.RequestUri} answered {status} without a problem body: {answer}");
        using var problem = JsonDocument.Parse(answer);
        Assert.Equal(status, problem.RootElement.GetProperty("status").GetInt32());
        Assert.True(problem.RootElement.TryGetProperty("traceId", out _), answer);
    }
}
