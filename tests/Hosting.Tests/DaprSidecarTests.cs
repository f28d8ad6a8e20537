using System.Net;
using System.Net.Http.Json;
using Aspire.Hosting;
using Aspire.Hosting.Dapr;
using Aspire.Hosting.Testing;

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

    private static async Task<Dictionary<string, string?>> EnvironmentOfAsync(DistributedApplication app, string resource) =>
        (await app.CreateHttpClient(resource).GetFromJsonAsync<Dictionary<string, string?>>("/env", Cancellation))!;
}
