using System.Net;
using System.Text;
using System.Text.Json;
using CloudScale.Testing;

namespace CloudScale.Sidecar.Tests;

/// <summary>Sidecars of apps <c>order</c> (the caller) and <c>booking</c> (in front of an echo app), and the name resolution file that joins them.</summary>
public sealed class InvocationFixture : IAsyncLifetime
{
    internal string Names { get; } = Path.Combine(Path.GetTempPath(), $"names-{Guid.NewGuid():N}.json");

    internal EchoApp Target { get; private set; } = null!;

    internal DaprSidecar Caller { get; private set; } = null!;

    internal DaprSidecar Callee { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        var resources = SidecarResources.Folder();
        Target = await EchoApp.StartAsync();
        var environment = new Dictionary<string, string>(StringComparer.Ordinal) { ["CLOUDSCALE_NAME_RESOLUTION_FILE"] = Names };
        Callee = await Sidecars.StartAsync("booking", resources, Target.Port, environment);
        await File.WriteAllTextAsync(Names, NamesJson("booking"));
        Caller = await Sidecars.StartAsync("order", resources, environment: environment);
    }

    public async ValueTask DisposeAsync()
    {
        await Caller.DisposeAsync();
        await Callee.DisposeAsync();
        await Target.DisposeAsync();
        File.Delete(Names);
    }

    /// <summary>A name resolution file in which every one of <paramref name="appIds"/> resolves to booking's sidecar.</summary>
    internal string NamesJson(params string[] appIds) =>
        SidecarResources.NameResolutionJson(appIds.ToDictionary(id => id, _ => Callee.HttpEndpoint, StringComparer.Ordinal));
}

/// <summary>Invocation from an app through its sidecar and the target's sidecar to the target app.</summary>
public sealed class InvocationTests(InvocationFixture fixture) : IClassFixture<InvocationFixture>
{
    [Theory]
    [InlineData("GET")]
    [InlineData("POST")]
    [InlineData("PUT")]
    [InlineData("PATCH")]
    [InlineData("DELETE")]
    [InlineData("HEAD")]
    [InlineData("OPTIONS")]
    public async Task Every_verb_passes_query_headers_body_and_status_through_two_sidecars(string method)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), "/v1.0/invoke/booking/method/rooms/42?status=201&x=a%20b");
        request.Headers.TryAddWithoutValidation("x-custom", "hello");
        var hasBody = method is not ("GET" or "HEAD" or "OPTIONS" or "DELETE");
        if (hasBody)
        {
            request.Content = new StringContent("payload", Encoding.UTF8, "text/plain");
        }

        using var response = await fixture.Caller.Http.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal(method, response.Headers.GetValues("x-echo-method").Single());
        Assert.Equal("/rooms/42", response.Headers.GetValues("x-echo-path").Single());
        Assert.Equal("?status=201&x=a%20b", response.Headers.GetValues("x-echo-query").Single());
        Assert.Equal("hello", response.Headers.GetValues("x-echo-header").Single());
        if (hasBody)
        {
            Assert.Equal("payload", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        }

        var headers = fixture.Target.ReceivedHeaders.Last();
        Assert.Equal("order", headers["dapr-caller-app-id"].ToString());
        Assert.Equal("booking", headers["dapr-callee-app-id"].ToString());
    }

    [Fact]
    public async Task The_dapr_app_id_header_form_and_error_statuses_pass_through()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/reservations?status=503") { Content = new StringContent("busy") };
        request.Headers.TryAddWithoutValidation("dapr-app-id", "booking");
        using var response = await fixture.Caller.Http.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("/reservations", response.Headers.GetValues("x-echo-path").Single());
        Assert.Equal("busy", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.False(fixture.Target.ReceivedHeaders.Last().ContainsKey("dapr-app-id"));
    }

    [Fact]
    public async Task One_trace_spans_the_call_through_both_sidecars()
    {
        var traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1.0/invoke/booking/method/trace");
        request.Headers.TryAddWithoutValidation("traceparent", $"00-{traceId}-00f067aa0ba902b7-01");
        using var response = await fixture.Caller.Http.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var received = fixture.Target.ReceivedHeaders.Last()["traceparent"].ToString();
        Assert.Equal(traceId, received.Split('-')[1]);
        Assert.NotEqual("00f067aa0ba902b7", received.Split('-')[2], StringComparer.Ordinal);
    }

    [Fact]
    public async Task Unknown_apps_and_missing_app_ids_get_daprs_errors()
    {
        using var unknown = await fixture.Caller.Http.GetAsync("/v1.0/invoke/nobody/method/x", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.InternalServerError, unknown.StatusCode);
        using (var body = JsonDocument.Parse(await unknown.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)))
        {
            Assert.Equal("ERR_DIRECT_INVOKE", body.RootElement.GetProperty("errorCode").GetString());
            Assert.Equal("failed to invoke, id: nobody, err: couldn't find service: nobody", body.RootElement.GetProperty("message").GetString());
        }

        using var noAppId = await fixture.Caller.Http.GetAsync("/not-a-route", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.NotFound, noAppId.StatusCode);
        using var error = JsonDocument.Parse(await noAppId.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.Equal("ERR_DIRECT_INVOKE", error.RootElement.GetProperty("errorCode").GetString());
    }

    [Fact]
    public async Task The_name_resolution_file_is_reread_when_it_changes()
    {
        await File.WriteAllTextAsync(fixture.Names, fixture.NamesJson("booking", "booking2"), TestContext.Current.CancellationToken);
        File.SetLastWriteTimeUtc(fixture.Names, DateTime.UtcNow.AddSeconds(5));

        // booking2 now resolves, to booking's sidecar, which refuses an app id it does not serve.
        using var response = await fixture.Caller.Http.GetAsync("/v1.0/invoke/booking2/method/x", TestContext.Current.CancellationToken);
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Contains("app id booking2 is not served by this sidecar", body, StringComparison.Ordinal);
    }
}
