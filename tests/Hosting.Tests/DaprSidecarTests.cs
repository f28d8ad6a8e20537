using System.Net;
using System.Net.Http.Json;
using Aspire.Hosting;
using Aspire.Hosting.Dapr;
using Aspire.Hosting.Testing;
using CloudScale.Testing;
using CloudScale.Testing.Otlp;

namespace CloudScale.Hosting.Tests;

public sealed class DaprSidecarTests
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Sidecars_get_aspires_variables_enforce_tokens_and_find_each_other_by_app_id()
    {
        await using var builder = DistributedApplicationTestingBuilder.Create();
        builder.AddProject<Projects.EchoService>("front").WithHttpHealthCheck("/health").WithDaprSidecar();
        builder.AddProject<Projects.EchoService>("back").WithHttpHealthCheck("/health").WithDaprSidecar(new DaprSidecarOptions { AppId = "backend" });
        await using var app = await AppModelTests.StartHealthyAsync(builder, "front", "front-dapr", "back", "back-dapr");
        var frontEnv = await EnvironmentOfAsync(app, "front");
        var backEnv = await EnvironmentOfAsync(app, "back");
        var sidecar = app.GetEndpoint("front-dapr");

        Assert.Equal(sidecar.Port.ToString(), frontEnv["DAPR_HTTP_PORT"]);
        Assert.Equal($"http://localhost:{sidecar.Port}", frontEnv["DAPR_HTTP_ENDPOINT"]);
        Assert.Matches("^[A-Za-z0-9]{22}$", frontEnv["DAPR_API_TOKEN"]);
        Assert.Equal(frontEnv["DAPR_API_TOKEN"], backEnv["DAPR_API_TOKEN"]);
        Assert.NotEqual(frontEnv["APP_API_TOKEN"], backEnv["APP_API_TOKEN"], StringComparer.Ordinal);

        using var client = new HttpClient { BaseAddress = sidecar };
        using var withoutToken = await client.GetAsync(new Uri("/v1.0/invoke/backend/method/pid", UriKind.Relative), Cancellation);
        Assert.Equal(HttpStatusCode.Unauthorized, withoutToken.StatusCode);

        client.DefaultRequestHeaders.Add("dapr-api-token", frontEnv["DAPR_API_TOKEN"]);
        var invokedPid = await client.GetFromJsonAsync<int>("/v1.0/invoke/backend/method/pid", Cancellation);
        var backPid = await app.CreateHttpClient("back").GetFromJsonAsync<int>("/pid", Cancellation);
        Assert.Equal(backPid, invokedPid);
    }

    [Fact]
    public async Task An_invocation_through_two_sidecars_is_one_trace_in_the_exported_spans()
    {
        await using var collector = await OtlpCollector.StartAsync();
        await using var builder = DistributedApplicationTestingBuilder.Create();
        builder.Configuration["ASPIRE_DASHBOARD_OTLP_HTTP_ENDPOINT_URL"] = collector.Endpoint;
        builder.AddProject<Projects.EchoService>("front").WithHttpHealthCheck("/health").WithDaprSidecar();
        builder.AddProject<Projects.EchoService>("back").WithHttpHealthCheck("/health").WithDaprSidecar();
        await using var app = await AppModelTests.StartHealthyAsync(builder, "front-dapr", "back", "back-dapr");
        var token = (await EnvironmentOfAsync(app, "front"))["DAPR_API_TOKEN"];
        var traceId = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));

        using var client = new HttpClient { BaseAddress = app.GetEndpoint("front-dapr") };
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1.0/invoke/back/method/pid");
        request.Headers.Add("dapr-api-token", token);
        request.Headers.Add("traceparent", $"00-{traceId}-{Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(8))}-01");
        using var response = await client.SendAsync(request, Cancellation);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        string[] services = ["front-dapr", "back-dapr", "back"];
        await Poll.UntilAsync(() => services.All(service => collector.Spans.Any(span => span.TraceId == traceId && span.Service == service)),
            TimeSpan.FromSeconds(30), () => "Spans of the trace: " + string.Join(", ", collector.Spans.Where(span => span.TraceId == traceId).Select(span => $"{span.Service}:{span.Name}")));
        var trace = collector.Spans.Where(span => span.TraceId == traceId).ToList();
        // Each hop is the child of a span exported by the hop before it: one unbroken trace.
        var backServer = Assert.Single(trace, span => span.Service == "back" && span.Kind == 2);
        Assert.Contains(trace, span => span.SpanId == backServer.ParentSpanId && span.Service == "back-dapr");
    }

    private static async Task<Dictionary<string, string?>> EnvironmentOfAsync(DistributedApplication app, string resource) =>
        (await app.CreateHttpClient(resource).GetFromJsonAsync<Dictionary<string, string?>>("/env", Cancellation))!;
}
