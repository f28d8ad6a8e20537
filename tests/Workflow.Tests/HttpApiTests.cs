using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using CloudScale.Testing;
using Dapr.Workflow;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using static CloudScale.Workflow.Tests.TestSupport;

namespace CloudScale.Workflow.Tests;

/// <summary>An application hosting the engine (in-memory store, real worker) and daprd's workflow API, on a loopback port.</summary>
public sealed class WorkflowApiApp : IAsyncLifetime
{
    private WebApplication? _app;

    public HttpClient Http { get; } = new();

    public DaprWorkflowClient Client => _app!.Services.GetRequiredService<DaprWorkflowClient>();

    public async ValueTask InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.AddDaprWorkflow(options =>
        {
            options.UseInMemoryStore();
            options.PollingInterval = TimeSpan.FromMilliseconds(50);
            options.RegisterWorkflow<ApprovalWorkflow>();
            options.RegisterWorkflow<string, string>("Greeting", (context, name) => context.CallActivityAsync<string>("Greet", name));
            options.RegisterActivity<string, string>("Greet", (_, name) => Task.FromResult($"Hello, {name}"));
            options.RegisterWorkflow<string, string>("Failing", (_, _) => throw new InvalidOperationException("boom"));
        });
        _app = builder.Build();
        _app.MapDaprWorkflowApi();
        await _app.StartAsync();
        var address = _app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        Http.BaseAddress = new Uri(address);
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }
}

public sealed partial class HttpApiTests(WorkflowApiApp app) : IClassFixture<WorkflowApiApp>
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(15);
    private readonly HttpClient _http = app.Http;

    [Fact]
    public async Task Start_answers_202_with_the_instance_id_and_get_answers_daprds_status_document()
    {
        using var start = await _http.PostAsync("v1.0/workflows/dapr/Greeting/start?instanceID=greet-1", Json("\"world\""), Cancellation);
        Assert.Equal(HttpStatusCode.Accepted, start.StatusCode);
        Assert.Equal("""{"instanceID":"greet-1"}""", await start.Content.ReadAsStringAsync(Cancellation));

        var status = await WaitForStatusAsync("greet-1", "COMPLETED");
        Assert.Equal("greet-1", status.GetProperty("instanceID").GetString());
        Assert.Equal("Greeting", status.GetProperty("workflowName").GetString());
        Assert.Matches(ProtoTimestamp(), status.GetProperty("createdAt").GetString()!);
        Assert.Matches(ProtoTimestamp(), status.GetProperty("lastUpdatedAt").GetString()!);
        var properties = status.GetProperty("properties");
        Assert.Equal("\"world\"", properties.GetProperty("dapr.workflow.input").GetString());
        Assert.Equal("\"Hello, world\"", properties.GetProperty("dapr.workflow.output").GetString());
        Assert.False(properties.TryGetProperty("dapr.workflow.failure.error_message", out _));
    }

    [Theory]
    [InlineData("v1.0-alpha1")]
    [InlineData("v1.0-beta1")]
    [InlineData("v1.0")]
    public async Task Every_api_version_serves_the_workflow_routes_and_a_missing_instance_id_is_generated(string version)
    {
        using var start = await _http.PostAsync($"{version}/workflows/dapr/Greeting/start", Json("\"v\""), Cancellation);
        Assert.Equal(HttpStatusCode.Accepted, start.StatusCode);
        var instanceId = (await start.Content.ReadFromJsonAsync<JsonElement>(Cancellation)).GetProperty("instanceID").GetString()!;
        Assert.True(Guid.TryParse(instanceId, out _));

        using var get = await _http.GetAsync($"{version}/workflows/dapr/{instanceId}", Cancellation);
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
    }

    [Theory]
    [InlineData("bad%20id", "ERR_INSTANCE_ID_INVALID", "workflow instance ID 'bad id' is invalid: only alphanumeric and underscore characters are allowed")]
    [InlineData("a-very-long-instance-id-that-goes-on-and-on-well-past-the-sixty-four-limit", "ERR_INSTANCE_ID_TOO_LONG", "workflow instance ID exceeds the max length of 64 characters")]
    public async Task Bad_instance_ids_are_refused_with_daprds_errors(string instanceId, string errorCode, string message)
    {
        using var start = await _http.PostAsync($"v1.0/workflows/dapr/Greeting/start?instanceID={instanceId}", Json("\"x\""), Cancellation);
        await AssertErrorAsync(start, HttpStatusCode.BadRequest, errorCode, message);
    }

    [Theory]
    [InlineData("GET", "")]
    [InlineData("POST", "/terminate")]
    [InlineData("POST", "/raiseEvent/Approval")]
    [InlineData("POST", "/pause")]
    [InlineData("POST", "/resume")]
    [InlineData("POST", "/purge")]
    public async Task Operations_on_an_unknown_instance_are_404_ERR_INSTANCE_ID_NOT_FOUND(string method, string operation)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), $"v1.0/workflows/dapr/nobody{operation}");
        using var response = await _http.SendAsync(request, Cancellation);
        await AssertErrorAsync(response, HttpStatusCode.NotFound, "ERR_INSTANCE_ID_NOT_FOUND", "unable to find workflow with the provided instance ID: nobody");
    }

    [Fact]
    public async Task An_instance_is_paused_sent_an_event_resumed_and_purged_over_http()
    {
        await PostAsync("v1.0/workflows/dapr/ApprovalWorkflow/start?instanceID=http-approval", HttpStatusCode.Accepted);
        await WaitForStatusAsync("http-approval", "RUNNING");
        using var startAgain = await _http.PostAsync("v1.0/workflows/dapr/ApprovalWorkflow/start?instanceID=http-approval", null, Cancellation);
        await AssertErrorAsync(startAgain, HttpStatusCode.InternalServerError, "ERR_START_WORKFLOW", "an active workflow with ID 'http-approval' already exists");

        Assert.Equal("{}", await PostAsync("v1.0/workflows/dapr/http-approval/pause", HttpStatusCode.Accepted));
        await WaitForStatusAsync("http-approval", "SUSPENDED");
        await PostAsync("v1.0/workflows/dapr/http-approval/raiseEvent/Approval", HttpStatusCode.Accepted, "true");
        using var purgeRunning = await _http.PostAsync("v1.0/workflows/dapr/http-approval/purge", null, Cancellation);
        Assert.Equal(HttpStatusCode.InternalServerError, purgeRunning.StatusCode);
        Assert.Equal("ERR_PURGE_WORKFLOW", (await purgeRunning.Content.ReadFromJsonAsync<JsonElement>(Cancellation)).GetProperty("errorCode").GetString());

        await PostAsync("v1.0/workflows/dapr/http-approval/resume", HttpStatusCode.Accepted);
        var completed = await WaitForStatusAsync("http-approval", "COMPLETED");
        Assert.Equal("\"approved\"", completed.GetProperty("properties").GetProperty("dapr.workflow.output").GetString());
        Assert.Equal("\"decided\"", completed.GetProperty("properties").GetProperty("dapr.workflow.custom_status").GetString());

        await PostAsync("v1.0/workflows/dapr/http-approval/purge", HttpStatusCode.Accepted);
        using var gone = await _http.GetAsync("v1.0/workflows/dapr/http-approval", Cancellation);
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
    }

    [Fact]
    public async Task A_terminated_instance_reports_TERMINATED()
    {
        await PostAsync("v1.0-beta1/workflows/dapr/ApprovalWorkflow/start?instanceID=http-terminated", HttpStatusCode.Accepted);
        await WaitForStatusAsync("http-terminated", "RUNNING");

        await PostAsync("v1.0-beta1/workflows/dapr/http-terminated/terminate", HttpStatusCode.Accepted);

        await WaitForStatusAsync("http-terminated", "TERMINATED");
    }

    [Fact]
    public async Task A_failed_instance_reports_its_failure_instead_of_an_output()
    {
        await PostAsync("v1.0/workflows/dapr/Failing/start?instanceID=http-failing", HttpStatusCode.Accepted, "\"x\"");

        var properties = (await WaitForStatusAsync("http-failing", "FAILED")).GetProperty("properties");
        Assert.Equal("System.InvalidOperationException", properties.GetProperty("dapr.workflow.failure.error_type").GetString());
        Assert.Equal("boom", properties.GetProperty("dapr.workflow.failure.error_message").GetString());
        Assert.False(properties.TryGetProperty("dapr.workflow.output", out _));
    }

    [Fact]
    public async Task The_client_waits_for_an_instance_to_start_and_to_complete()
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Cancellation);
        deadline.CancelAfter(Deadline);
        var instanceId = await app.Client.ScheduleNewWorkflowAsync(nameof(ApprovalWorkflow), cancellation: deadline.Token);

        var started = await app.Client.WaitForWorkflowStartAsync(instanceId, cancellation: deadline.Token);
        Assert.Equal(WorkflowRuntimeStatus.Running, started.RuntimeStatus);
        await app.Client.RaiseEventAsync(instanceId, "Approval", false, deadline.Token);
        var completed = await app.Client.WaitForWorkflowCompletionAsync(instanceId, cancellation: deadline.Token);

        Assert.Equal((WorkflowRuntimeStatus.Completed, "rejected"), (completed.RuntimeStatus, completed.ReadOutputAs<string>()));
        Assert.True(completed.CreatedAt <= completed.LastUpdatedAt);
    }

    private async Task<string> PostAsync(string path, HttpStatusCode expected, string? body = null)
    {
        using var response = await _http.PostAsync(path, body is null ? null : Json(body), Cancellation);
        var content = await response.Content.ReadAsStringAsync(Cancellation);
        Assert.True(response.StatusCode == expected, $"{path}: {(int)response.StatusCode} {content}");
        return content;
    }

    private Task<JsonElement> WaitForStatusAsync(string instanceId, string runtimeStatus) =>
        Poll.UntilAsync(
            async () => await _http.GetFromJsonAsync<JsonElement>($"v1.0/workflows/dapr/{instanceId}", Cancellation),
            status => status.GetProperty("runtimeStatus").GetString() == runtimeStatus,
            Deadline);

    private static async Task AssertErrorAsync(HttpResponseMessage response, HttpStatusCode status, string errorCode, string message)
    {
        Assert.Equal(status, response.StatusCode);
        var error = await response.Content.ReadFromJsonAsync<JsonElement>(Cancellation);
        Assert.Equal((errorCode, message), (error.GetProperty("errorCode").GetString(), error.GetProperty("message").GetString()));
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    [GeneratedRegex(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3}|\.\d{6}|\.\d{9})?Z$", RegexOptions.ExplicitCapture, matchTimeoutMilliseconds: 1000)]
    private static partial Regex ProtoTimestamp();
}
