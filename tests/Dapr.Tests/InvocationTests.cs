using System.Diagnostics;
using System.Net;
using System.Text.Json;
using CloudScale.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace CloudScale.Dapr.Tests;

/// <summary>
/// App "order" calls app "booking" through its own sidecar and booking's sidecar (found through the name-resolution file),
/// as services do in production. Booking is a real ASP.NET Core app in this process.
/// </summary>
public sealed class InvocationFixture : IAsyncLifetime
{
    private DaprSidecar? _bookingSidecar;
    private DaprSidecar? _orderSidecar;

    public TestApp Booking { get; private set; } = null!;

    public DaprSidecar OrderSidecar => _orderSidecar ?? throw new InvalidOperationException("Started in InitializeAsync.");

    public DaprClient Client { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        Booking = await TestApp.StartAsync(MapBooking);
        var resources = SidecarResources.Folder();
        var booking = new SidecarSettings("booking", resources) { AppPort = Booking.Port };
        var names = SidecarResources.NameResolutionFile(new Dictionary<string, Uri>(StringComparer.Ordinal) { ["booking"] = new($"http://127.0.0.1:{booking.HttpPort}") });
        var environment = new Dictionary<string, string>(StringComparer.Ordinal) { ["CLOUDSCALE_NAME_RESOLUTION_FILE"] = names };
        var sidecars = await Task.WhenAll(
            DaprSidecar.StartAsync(booking with { Environment = environment }),
            DaprSidecar.StartAsync(new SidecarSettings("order", resources) { Environment = environment }));
        (_bookingSidecar, _orderSidecar) = (sidecars[0], sidecars[1]);
        Client = OrderSidecar.CreateClient();
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        foreach (var sidecar in new[] { _orderSidecar, _bookingSidecar })
        {
            if (sidecar is not null)
            {
                await sidecar.DisposeAsync();
            }
        }

        await Booking.DisposeAsync();
    }

    private static void MapBooking(WebApplication app)
    {
        app.MapPost("/orders", (Order order) => new Confirmation(order.Id, "confirmed"));
        app.MapGet("/orders/{id}", (string id) => new Order(id, 1, "placed"));
        app.MapGet("/status/{code:int}", (int code) => Results.Text("booking says no", statusCode: code));
        app.MapGet("/not-json", () => Results.Text("<p>hello</p>", "text/html"));
        app.Map("/echo/{**rest}", async (HttpRequest request) =>
        {
            using var reader = new StreamReader(request.Body);
            return new Echo(request.Method, request.Path.Value!, request.QueryString.Value ?? "", await reader.ReadToEndAsync());
        });
    }
}

public sealed class InvocationTests(InvocationFixture fixture) : IClassFixture<InvocationFixture>
{
    private readonly DaprClient _dapr = fixture.Client;
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_typed_request_gets_a_typed_response_through_both_sidecars()
    {
        var confirmation = await _dapr.InvokeMethodAsync<Order, Confirmation>("booking", "orders", new Order("o-7", 2, "placed"), Cancellation);

        Assert.Equal(new Confirmation("o-7", "confirmed"), confirmation);
        var received = fixture.Booking.LastOn("/orders");
        Assert.Equal("order", received.Headers["dapr-caller-app-id"]);
        Assert.Equal("booking", received.Headers["dapr-callee-app-id"]);
    }

    public static TheoryData<string> Methods => ["GET", "POST", "PUT", "PATCH", "DELETE"];

    [Theory]
    [MemberData(nameof(Methods))]
    public async Task Every_http_method_reaches_the_app(string method)
    {
        var echo = await _dapr.InvokeMethodAsync<Echo>(new HttpMethod(method), "booking", "echo/verbs", Cancellation);

        Assert.Equal(new Echo(method, "/echo/verbs", "", ""), echo);
    }

    [Fact]
    public async Task The_overloads_send_post_by_default_and_bodies_as_web_json()
    {
        Assert.Equal("POST", (await _dapr.InvokeMethodAsync<Echo>("booking", "echo/default", Cancellation))!.Method);
        Assert.Equal(new Order("o-1", 1, "placed"), await _dapr.InvokeMethodAsync<Order>(HttpMethod.Get, "booking", "orders/o-1", Cancellation));

        await _dapr.InvokeMethodAsync("booking", "echo/no-body", Cancellation);
        await _dapr.InvokeMethodAsync(HttpMethod.Put, "booking", "echo/put", Cancellation);
        await _dapr.InvokeMethodAsync("booking", "echo/body", new Order("o-2", 2, "paid"), Cancellation);
        await _dapr.InvokeMethodAsync(HttpMethod.Patch, "booking", "echo/patch", new Order("o-3", 3, "paid"), Cancellation);
        var echo = await _dapr.InvokeMethodAsync<Order, Echo>(HttpMethod.Put, "booking", "echo/typed", new Order("o-4", 4, "paid"), Cancellation);

        Assert.Equal(["POST /echo/no-body", "PUT /echo/put", "POST /echo/body", "PATCH /echo/patch"], fixture.Booking.Received
            .Where(request => request.Path is "/echo/no-body" or "/echo/put" or "/echo/body" or "/echo/patch")
            .Select(request => $"{request.Method} {request.Path}"), StringComparer.Ordinal);
        Assert.Equal("""{"id":"o-4","quantity":4,"status":"paid"}""", echo!.Body);
    }

    [Fact]
    public async Task A_created_request_carries_its_query_string_and_body()
    {
        using var request = _dapr.CreateInvokeMethodRequest(HttpMethod.Post, "booking", "/echo/search", [new("q", "a b&c"), new("page", "2")], new Order("o-5", 5, "placed"));

        var echo = await _dapr.InvokeMethodAsync<Echo>(request, Cancellation);

        Assert.Equal(new Echo("POST", "/echo/search", "?q=a%20b%26c&page=2", """{"id":"o-5","quantity":5,"status":"placed"}"""), echo);
    }

    [Fact]
    public async Task An_error_status_throws_InvocationException_with_the_response_and_the_raw_call_returns_it()
    {
        var failure = await Assert.ThrowsAsync<InvocationException>(() => _dapr.InvokeMethodAsync(HttpMethod.Get, "booking", "status/409", Cancellation));

        Assert.Equal(("booking", "status/409"), (failure.AppId, failure.MethodName));
        Assert.Equal(HttpStatusCode.Conflict, failure.Response!.StatusCode);
        Assert.Equal("booking says no", await failure.Response.Content.ReadAsStringAsync(Cancellation));
        Assert.Equal(HttpStatusCode.Conflict, Assert.IsType<HttpRequestException>(failure.InnerException).StatusCode);

        using var request = _dapr.CreateInvokeMethodRequest(HttpMethod.Get, "booking", "status/503");
        using var response = await _dapr.InvokeMethodWithResponseAsync(request, Cancellation);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
    }

    [Fact]
    public async Task An_unknown_app_throws_InvocationException_carrying_daprs_error()
    {
        var failure = await Assert.ThrowsAsync<InvocationException>(() => _dapr.InvokeMethodAsync<Order>(HttpMethod.Get, "nobody", "orders/1", Cancellation));

        Assert.Equal("nobody", failure.AppId);
        Assert.Equal(HttpStatusCode.InternalServerError, failure.Response!.StatusCode);
        using var error = JsonDocument.Parse(await failure.Response.Content.ReadAsStringAsync(Cancellation));
        Assert.Equal("ERR_DIRECT_INVOKE", error.RootElement.GetProperty("errorCode").GetString());
        Assert.Equal("failed to invoke, id: nobody, err: couldn't find service: nobody", error.RootElement.GetProperty("message").GetString());
    }

    [Fact]
    public async Task A_response_that_is_not_the_expected_json_throws_InvocationException()
    {
        var failure = await Assert.ThrowsAsync<InvocationException>(() => _dapr.InvokeMethodAsync<Order>(HttpMethod.Get, "booking", "not-json", Cancellation));

        Assert.IsType<JsonException>(failure.InnerException);
        Assert.Equal(HttpStatusCode.OK, failure.Response!.StatusCode);
    }

    [Fact]
    public async Task An_unreachable_sidecar_throws_InvocationException_without_a_response()
    {
        using var nowhere = new DaprClientBuilder().UseHttpEndpoint($"http://127.0.0.1:{LoopbackPorts.Free()}").Build();

        var failure = await Assert.ThrowsAsync<InvocationException>(() => nowhere.InvokeMethodAsync("booking", "orders", Cancellation));

        Assert.Null(failure.Response);
        Assert.IsType<HttpRequestException>(failure.InnerException);
    }

    [Fact]
    public async Task A_request_for_another_address_is_refused_so_the_token_never_leaves_the_sidecar()
    {
        using var elsewhere = new HttpRequestMessage(HttpMethod.Get, "http://example.com/v1.0/invoke/booking/method/orders/1");

        await Assert.ThrowsAsync<InvalidOperationException>(() => _dapr.InvokeMethodWithResponseAsync(elsewhere, Cancellation));
    }

    [Fact]
    public async Task The_invoke_http_client_routes_app_addresses_through_the_sidecar()
    {
        using var fromStatic = DaprClient.CreateInvokeHttpClient("booking", fixture.OrderSidecar.HttpEndpoint.ToString());
        using var fromClient = _dapr.CreateInvokableHttpClient();

        Assert.Equal(new Uri("http://booking"), fromStatic.BaseAddress);
        var relative = await fromStatic.GetStringAsync("/echo/relative?x=1", Cancellation);
        var absolute = await fromClient.GetStringAsync("http://booking/echo/absolute?y=2", Cancellation);

        Assert.Equal(new Echo("GET", "/echo/relative", "?x=1", ""), JsonSerializer.Deserialize<Echo>(relative, JsonSerializerOptions.Web));
        Assert.Equal(new Echo("GET", "/echo/absolute", "?y=2", ""), JsonSerializer.Deserialize<Echo>(absolute, JsonSerializerOptions.Web));
        Assert.Equal("order", fixture.Booking.LastOn("/echo/absolute").Headers["dapr-caller-app-id"]);
    }

    [Fact]
    public async Task The_callers_trace_continues_in_the_app_from_every_kind_of_client()
    {
        using var source = new ActivitySource("CloudScale.Dapr.Tests.Invocation");
        using var listener = new ActivityListener
        {
            ShouldListenTo = candidate => candidate.Name == source.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(listener);
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?>(StringComparer.Ordinal) { ["DAPR_HTTP_ENDPOINT"] = fixture.OrderSidecar.HttpEndpoint.ToString() })
            .Build();
        await using var services = new ServiceCollection().AddSingleton<IConfiguration>(configuration).AddDaprClient().Services.BuildServiceProvider();
        var fromFactory = services.GetRequiredService<DaprClient>();
        using var invokeClient = DaprClient.CreateInvokeHttpClient("booking", fixture.OrderSidecar.HttpEndpoint.ToString());

        var calls = new (string Path, Func<Task> Call)[]
        {
            ("/echo/trace-builder", () => _dapr.InvokeMethodAsync(HttpMethod.Get, "booking", "echo/trace-builder", Cancellation)),
            ("/echo/trace-factory", () => fromFactory.InvokeMethodAsync(HttpMethod.Get, "booking", "echo/trace-factory", Cancellation)),
            ("/echo/trace-http-client", () => invokeClient.GetAsync("/echo/trace-http-client", Cancellation)),
        };
        foreach (var (path, call) in calls)
        {
            using var activity = source.StartActivity("caller")!;
            await call();
            var traceparent = fixture.Booking.LastOn(path).Headers["traceparent"];
            Assert.Equal(activity.TraceId.ToHexString(), traceparent.Split('-')[1]);
        }
    }
}
