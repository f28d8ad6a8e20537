using System.Net;
using System.Text;
using System.Text.Json;
using CloudScale.Testing;

namespace CloudScale.Sidecar.Workflow.Tests;

/// <summary>daprd's workflow HTTP API (<c>/v1.0/workflows/dapr/...</c>) on the same backend, with the SDK's worker running the workflows.</summary>
public sealed class WorkflowHttpApiTests(RedisWorkflowFixture fixture) : IClassFixture<RedisWorkflowFixture>
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private HttpClient Http => fixture.Sidecar.Http;

    [Fact]
    public async Task A_workflow_started_over_HTTP_runs_and_shows_its_state()
    {
        var id = NewId();

        using var start = await PostAsync($"v1.0/workflows/dapr/ChainWorkflow/start?instanceID={id}", "5");

        Assert.Equal(HttpStatusCode.Accepted, start.StatusCode);
        Assert.Equal($$"""{"instanceID":"{{id}}"}""", await start.Content.ReadAsStringAsync(Token));
        var state = await StatusAsync(id, "COMPLETED");
        Assert.Equal(id, state.GetProperty("instanceID").GetString());
        Assert.Equal("ChainWorkflow", state.GetProperty("workflowName").GetString());
        Assert.True(DateTimeOffset.TryParse(state.GetProperty("createdAt").GetString(), out _));
        Assert.EndsWith("Z", state.GetProperty("lastUpdatedAt").GetString(), StringComparison.Ordinal);
        var properties = state.GetProperty("properties");
        Assert.Equal("5", properties.GetProperty("dapr.workflow.input").GetString());
        Assert.Equal("8", properties.GetProperty("dapr.workflow.output").GetString());
    }

    [Fact]
    public async Task Pause_resume_raise_event_and_purge_act_on_the_instance()
    {
        var id = NewId();
        (await PostAsync($"v1.0/workflows/dapr/Approval/start?instanceID={id}", "60000")).Dispose();
        await Poll.UntilAsync(async () => (await GetAsync(id)).TryGetProperty("properties", out var properties)
            && properties.TryGetProperty("dapr.workflow.custom_status", out var status) && status.GetString() == "\"waiting\"", Deadline);

        await AcceptedAsync($"v1.0/workflows/dapr/{id}/pause");
        Assert.Equal("SUSPENDED", (await GetAsync(id)).GetProperty("runtimeStatus").GetString());
        await AcceptedAsync($"v1.0-beta1/workflows/dapr/{id}/resume");
        Assert.Equal("RUNNING", (await GetAsync(id)).GetProperty("runtimeStatus").GetString());
        await AcceptedAsync($"v1.0/workflows/dapr/{id}/raiseEvent/approval", "\"yes\"");

        Assert.Equal("\"yes\"", (await StatusAsync(id, "COMPLETED")).GetProperty("properties").GetProperty("dapr.workflow.output").GetString());
        await AcceptedAsync($"v1.0/workflows/dapr/{id}/purge");
        using var gone = await Http.GetAsync(new Uri($"v1.0/workflows/dapr/{id}", UriKind.Relative), Token);
        await AssertErrorAsync(gone, HttpStatusCode.NotFound, "ERR_INSTANCE_ID_NOT_FOUND", $"unable to find workflow with the provided instance ID: {id}");
    }

    [Fact]
    public async Task A_terminated_workflow_shows_TERMINATED_and_a_failed_one_its_failure_without_output()
    {
        var running = NewId();
        var failing = NewId();
        (await PostAsync($"v1.0/workflows/dapr/Forever/start?instanceID={running}", "\"\"")).Dispose();
        (await PostAsync($"v1.0/workflows/dapr/Fails/start?instanceID={failing}", "\"no stock\"")).Dispose();

        await AcceptedAsync($"v1.0/workflows/dapr/{running}/terminate");

        await StatusAsync(running, "TERMINATED");
        var failure = (await StatusAsync(failing, "FAILED")).GetProperty("properties");
        Assert.Contains("no stock", failure.GetProperty("dapr.workflow.failure.error_message").GetString(), StringComparison.Ordinal);
        Assert.False(string.IsNullOrEmpty(failure.GetProperty("dapr.workflow.failure.error_type").GetString()));
        Assert.False(failure.TryGetProperty("dapr.workflow.output", out _));
    }

    [Fact]
    public async Task Bad_requests_get_daprds_errors()
    {
        using var invalid = await PostAsync("v1.0/workflows/dapr/ChainWorkflow/start?instanceID=bad$id", "1");
        using var tooLong = await PostAsync($"v1.0/workflows/dapr/ChainWorkflow/start?instanceID={new string('a', 65)}", "1");
        using var component = await PostAsync("v1.0/workflows/other/ChainWorkflow/start", "1");
        using var terminate = await PostAsync($"v1.0/workflows/dapr/{NewId()}/terminate", "");

        await AssertErrorAsync(invalid, HttpStatusCode.BadRequest, "ERR_INSTANCE_ID_INVALID", "workflow instance ID 'bad$id' is invalid: only alphanumeric and underscore characters are allowed");
        await AssertErrorAsync(tooLong, HttpStatusCode.BadRequest, "ERR_INSTANCE_ID_TOO_LONG", "workflow instance ID exceeds the max length of 64 characters");
        await AssertErrorAsync(component, HttpStatusCode.BadRequest, "ERR_WORKFLOW_COMPONENT_NOT_FOUND", "workflow component 'other' does not exist");
        Assert.Equal(HttpStatusCode.NotFound, terminate.StatusCode);
    }

    private static string NewId() => $"http-{Guid.NewGuid():N}";

    private Task<HttpResponseMessage> PostAsync(string path, string body) =>
        Http.PostAsync(new Uri(path, UriKind.Relative), new StringContent(body, Encoding.UTF8, "application/json"), Token);

    private async Task AcceptedAsync(string path, string body = "")
    {
        using var response = await PostAsync(path, body);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal("{}", await response.Content.ReadAsStringAsync(Token));
    }

    private async Task<JsonElement> GetAsync(string id)
    {
        using var response = await Http.GetAsync(new Uri($"v1.0/workflows/dapr/{id}", UriKind.Relative), Token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Token));
        return document.RootElement.Clone();
    }

    private Task<JsonElement> StatusAsync(string id, string status) =>
        Poll.UntilAsync(() => GetAsync(id), state => state.GetProperty("runtimeStatus").GetString() == status, Deadline);

    private static async Task AssertErrorAsync(HttpResponseMessage response, HttpStatusCode status, string errorCode, string message)
    {
        Assert.Equal(status, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Token));
        Assert.Equal(errorCode, body.RootElement.GetProperty("errorCode").GetString());
        Assert.Equal(message, body.RootElement.GetProperty("message").GetString());
    }
}
