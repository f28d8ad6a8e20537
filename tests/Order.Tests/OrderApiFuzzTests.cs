using System.Globalization;
using System.Net;
using System.Text;
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

    private static readonly Gen<string> UrlText = FuzzJson.UrlText(Words);

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

                await order.Client.AssertSuccessOrClientProblemAsync(request, HttpStatusCode.Accepted);
            },
            iter: Iterations, threads: 1);
    }

    [Fact]
    public async Task Listing_reading_and_cancelling_answer_success_or_a_4xx_problem_whatever_the_query_and_id()
    {
        await Gen.Select(UrlText, UrlText, UrlText, Gen.OneOf("/orders?customerId={0}&limit={1}&cursor={2}", "/orders/{0}", "/orders/{0}/cancel")).SampleAsync(
            async (first, second, third, template) =>
            {
                var path = string.Format(CultureInfo.InvariantCulture, template, first, second, third);
                using var request = new HttpRequestMessage(template.EndsWith("/cancel", StringComparison.Ordinal) ? HttpMethod.Post : HttpMethod.Get, path);
                await order.Client.AssertSuccessOrClientProblemAsync(request, HttpStatusCode.OK);
            },
            iter: Iterations, threads: 1);
    }
}
