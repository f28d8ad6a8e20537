using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using CloudScale.Testing;
using CsCheck;

namespace CloudScale.Notification.Tests;

/// <summary>
/// Random and broken CloudEvents delivered as the sidecar delivers them, and random queries and ids: a delivery is
/// answered 200 with a Dapr status (SUCCESS, or DROP for what can never succeed, so that the sidecar dead-letters it
/// rather than retrying it forever) or a 4xx problem, never a 5xx; every other answer is a success or a 4xx problem
/// with a trace id. CsCheck shrinks a failure to its smallest input and prints the seed that reproduces it.
/// </summary>
public sealed class NotificationApiFuzzTests(NotificationServiceFixture notification) : IClassFixture<NotificationServiceFixture>
{
    private const int Iterations = 1000;

    private static readonly string[] FieldNames =
    [
        "specversion", "id", "source", "type", "datacontenttype", "data", "topic", "pubsubname", "traceparent",
        "orderId", "customerId", "roomId", "from", "to", "amount", "reason", "confirmedAt", "cancelledAt",
    ];

    private static readonly string[] Words =
    [
        "", " ", "1.0", "cloudscale.order.confirmed.v1", "cloudscale.order.cancelled.v1", "application/json", "user-fuzz",
        Guid.NewGuid().ToString(), Guid.Empty.ToString(), "2030-01-01", "2030-01-01T00:00:00Z", "not a date", "240", "-1",
        new string('x', 300), "\u0000", "é😀",
    ];

    [Fact]
    public async Task Any_delivered_event_is_answered_with_a_dapr_status_or_a_4xx_problem_never_a_5xx()
    {
        await Gen.Select(Gen.OneOf("order.confirmed", "order.cancelled"), FuzzJson.Bodies(FieldNames, Words), Gen.OneOf("application/cloudevents+json", "application/json")).SampleAsync(
            async (topic, body, contentType) =>
            {
                if (contentType == "application/cloudevents+json" && !IsJsonObject(body))
                {
                    // No sidecar delivers it: daprd refuses to publish a CloudEvent that is not a JSON object (and
                    // Dapr.AspNetCore's CloudEvents middleware throws on one).
                    return;
                }

                using var request = new HttpRequestMessage(HttpMethod.Post, $"/integration-events/{topic}")
                {
                    Content = new StringContent(body, Encoding.UTF8, contentType),
                };
                request.Headers.Add("dapr-api-token", NotificationService.AppToken);
                using var response = await notification.Client.SendAsync(request, TestContext.Current.CancellationToken);
                var answer = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
                var status = (int)response.StatusCode;
                Assert.True(status is 200 or >= 400 and < 500, $"{topic} {body} answered {status}: {answer}");
                if (status == 200)
                {
                    using var reply = JsonDocument.Parse(answer);
                    Assert.True(reply.RootElement.GetProperty("status").GetString() is "SUCCESS" or "DROP", $"{topic} {body} answered {answer}");
                }
            },
            iter: Iterations, threads: 1);
    }

    [Fact]
    public async Task Reading_and_marking_notifications_answers_success_or_a_4xx_problem_whatever_the_query_and_id()
    {
        var text = FuzzJson.UrlText(Words);
        var paths = Gen.OneOf(
            (HttpMethod.Get, "/users/{0}/notifications?limit={1}&cursor={2}"),
            (HttpMethod.Get, "/users/{0}/notifications/unread-count"),
            (HttpMethod.Post, "/users/{0}/notifications/{1}/read"));

        await Gen.Select(paths, text, text, text).SampleAsync(
            async (path, first, second, third) =>
            {
                using var request = new HttpRequestMessage(path.Item1, string.Format(CultureInfo.InvariantCulture, path.Item2, first, second, third));
                await notification.Client.AssertSuccessOrClientProblemAsync(request, HttpStatusCode.OK, HttpStatusCode.NoContent);
            },
            iter: Iterations, threads: 1);
    }

    private static bool IsJsonObject(string text)
    {
        try
        {
            using var document = JsonDocument.Parse(text);
            return document.RootElement.ValueKind == JsonValueKind.Object;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
