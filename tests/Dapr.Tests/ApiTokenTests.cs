using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace CloudScale.Dapr.Tests;

/// <summary>
/// Both tokens at once: the app calls its sidecar with <c>DAPR_API_TOKEN</c>, and the sidecar calls the app with
/// <c>APP_API_TOKEN</c>, which the app checks with the <c>Dapr</c> authentication scheme and policy.
/// </summary>
public sealed class ApiTokenFixture : IAsyncLifetime
{
    public const string SidecarToken = "sidecar-secret";
    public const string AppToken = "app-secret";
    private DaprSidecar? _sidecar;

    public TestApp App { get; private set; } = null!;

    public DaprSidecar Sidecar => _sidecar ?? throw new InvalidOperationException("Started in InitializeAsync.");

    public async ValueTask InitializeAsync()
    {
        App = await TestApp.StartAsync(
            MapSecureApp,
            builder =>
            {
                builder.Services.AddAuthentication().AddDapr();
                builder.Services.AddAuthorization(options => options.AddDapr());
            },
            new Dictionary<string, string?>(StringComparer.Ordinal) { ["APP_API_TOKEN"] = AppToken },
            serviceDefaults: true);
        _sidecar = await DaprSidecar.StartAsync(new SidecarSettings("secure", SidecarResources.Folder())
        {
            AppPort = App.Port,
            Environment = new Dictionary<string, string>(StringComparer.Ordinal) { ["DAPR_API_TOKEN"] = SidecarToken, ["APP_API_TOKEN"] = AppToken },
        });
    }

    public async ValueTask DisposeAsync()
    {
        if (_sidecar is not null)
        {
            await _sidecar.DisposeAsync();
        }

        await App.DisposeAsync();
    }

    public static void MapSecureApp(WebApplication app)
    {
        app.MapSubscribeHandler().RequireAuthorization("Dapr");
        app.MapPost("/work", () => Results.Ok("done")).WithTopic("pubsub", "work").RequireAuthorization("Dapr");
    }
}

public sealed class ApiTokenTests(ApiTokenFixture fixture) : IClassFixture<ApiTokenFixture>
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_client_with_DAPR_API_TOKEN_is_served_and_one_without_gets_daprs_401()
    {
        using var withToken = fixture.Sidecar.CreateClient(ApiTokenFixture.SidecarToken);
        using var withoutToken = fixture.Sidecar.CreateClient();

        // Past the token check, the sidecar answers for what it is: one without pub/sub components.
        var served = await Assert.ThrowsAsync<DaprApiException>(() => withToken.PublishEventAsync("pubsub", "work", new Order("o", 1, "placed"), Cancellation));
        var refused = await Assert.ThrowsAsync<DaprApiException>(() => withoutToken.PublishEventAsync("pubsub", "work", new Order("o", 1, "placed"), Cancellation));

        Assert.Equal("ERR_PUBSUB_NOT_CONFIGURED", served.ErrorCode);
        Assert.Equal((HttpStatusCode.Unauthorized, DaprApiException.UnknownErrorCode, "invalid api token"), (refused.StatusCode, refused.ErrorCode, refused.Message));
    }

    [Fact]
    public async Task The_token_comes_from_configuration_under_the_sdks_names()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["DAPR_HTTP_ENDPOINT"] = fixture.Sidecar.HttpEndpoint.ToString(),
            // DAPR_HTTP_ENDPOINT wins over the port.
            ["DAPR_HTTP_PORT"] = "1",
            ["DAPR_API_TOKEN"] = ApiTokenFixture.SidecarToken,
        }).Build();
        using var dapr = new DaprClientBuilder(configuration).Build();

        Assert.Equal("done", await dapr.InvokeMethodAsync<string>("secure", "work", Cancellation));
    }

    [Fact]
    public async Task Health_probes_need_no_token()
    {
        using var withoutToken = fixture.Sidecar.CreateClient();

        Assert.True(await withoutToken.CheckHealthAsync(Cancellation));
        Assert.True(await withoutToken.CheckOutboundHealthAsync(Cancellation));
    }

    [Fact]
    public async Task The_sidecar_presents_APP_API_TOKEN_so_invocation_and_subscription_discovery_pass()
    {
        using var dapr = fixture.Sidecar.CreateClient(ApiTokenFixture.SidecarToken);

        Assert.Equal("done", await dapr.InvokeMethodAsync<string>("secure", "work", Cancellation));
        Assert.Equal(ApiTokenFixture.AppToken, fixture.App.LastOn("/work").Headers["dapr-api-token"]);
        using var http = new HttpClient { BaseAddress = fixture.Sidecar.HttpEndpoint };
        http.DefaultRequestHeaders.Add("dapr-api-token", ApiTokenFixture.SidecarToken);
        using var metadata = JsonDocument.Parse(await http.GetStringAsync("v1.0/metadata", Cancellation));
        Assert.Equal("work", metadata.RootElement.GetProperty("subscriptions").EnumerateArray().Single().GetProperty("topic").GetString());
    }

    [Theory]
    [InlineData("POST", "/work", null)]
    [InlineData("POST", "/work", "wrong")]
    [InlineData("GET", "/dapr/subscribe", null)]
    [InlineData("GET", "/dapr/subscribe", "app-secret-but-longer")]
    public async Task Anyone_else_gets_a_401_problem(string method, string path, string? token)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (token is not null)
        {
            request.Headers.Add("dapr-api-token", token);
        }

        using var response = await fixture.App.Client.SendAsync(request, Cancellation);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Cancellation));
        Assert.Equal(401, problem.RootElement.GetProperty("status").GetInt32());
        Assert.Contains("dapr-api-token", problem.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.True(problem.RootElement.TryGetProperty("traceId", out _), "ServiceDefaults' problem details carry the trace id");
    }

    [Fact]
    public async Task A_sidecar_with_another_app_token_is_refused_by_the_app()
    {
        await using var impostor = await DaprSidecar.StartAsync(new SidecarSettings("secure", SidecarResources.Folder())
        {
            AppPort = fixture.App.Port,
            Environment = new Dictionary<string, string>(StringComparer.Ordinal) { ["APP_API_TOKEN"] = "not-the-app-token" },
        });
        using var dapr = impostor.CreateClient();

        var failure = await Assert.ThrowsAsync<InvocationException>(() => dapr.InvokeMethodAsync("secure", "work", Cancellation));

        Assert.Equal(HttpStatusCode.Unauthorized, failure.Response!.StatusCode);
    }

    [Fact]
    public async Task Without_a_configured_app_token_the_check_is_off()
    {
        await using var open = await TestApp.StartAsync(
            ApiTokenFixture.MapSecureApp,
            builder =>
            {
                builder.Services.AddAuthentication().AddDapr(options => options.Token = null);
                builder.Services.AddAuthorization(options => options.AddDapr());
            });

        using var response = await open.Client.PostAsync("/work", content: null, Cancellation);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}
