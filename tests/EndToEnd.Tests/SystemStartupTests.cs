using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.DependencyInjection;

namespace CloudScale.EndToEnd.Tests;

/// <summary>CloudScale's own AppHost, started as a developer starts it, through Aspire's testing builder.</summary>
public sealed class SystemStartupTests(CloudScaleSystem system) : IClassFixture<CloudScaleSystem>
{
    private static readonly string[] Services = ["booking", "order", "notification"];

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Every_service_comes_up_healthy_and_answers_health_through_a_sidecar()
    {
        var model = system.App.Services.GetRequiredService<DistributedApplicationModel>();
        var apiToken = await model.Resources.OfType<ParameterResource>().Single(parameter => parameter.Name == "dapr-api-token").GetValueAsync(Cancellation);
        using var sidecar = system.App.CreateHttpClient("booking-dapr");
        sidecar.DefaultRequestHeaders.Add("dapr-api-token", apiToken);
        foreach (var service in Services)
        {
            using var response = await sidecar.GetAsync(new Uri($"/v1.0/invoke/{service}/method/health", UriKind.Relative), Cancellation);
            var body = await response.Content.ReadFromJsonAsync<JsonElement>(Cancellation);

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("Healthy", body.GetProperty("status").GetString());
            // Readiness covers every dependency: the service's database, Redis and its own sidecar (the first two named as
            // Aspire.Npgsql and Aspire.StackExchange.Redis name their checks).
            var checks = body.GetProperty("checks").EnumerateArray()
                .ToDictionary(check => check.GetProperty("name").GetString()!, check => check.GetProperty("status").GetString(), StringComparer.Ordinal);
            Assert.Equal("Healthy", checks["PostgreSql"]);
            Assert.Equal("Healthy", checks["StackExchange.Redis"]);
            Assert.Equal("Healthy", checks["dapr"]);
        }
    }
}
