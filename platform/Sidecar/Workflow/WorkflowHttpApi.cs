using System.Text;
using System.Text.Json;
using CloudScale.Sidecar.Api;
using Dapr.DurableTask.Protobuf;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace CloudScale.Sidecar.Workflow;

/// <summary>
/// daprd's workflow management API over HTTP (<c>pkg/api/http/workflow.go</c>) on the same backend as the gRPC service,
/// under each prefix daprd still registers (v1.0, v1.0-beta1, v1.0-alpha1), with its status codes, error codes and messages.
/// </summary>
internal static class WorkflowHttpApi
{
    private const int MaxInstanceIdLength = 64;

    public static void Map(IEndpointRouteBuilder routes)
    {
        foreach (var version in new[] { "v1.0", "v1.0-beta1", "v1.0-alpha1" })
        {
            var workflows = routes.MapGroup($"/{version}/workflows/{{component}}");
            workflows.MapPost("/{name}/start", StartAsync);
            workflows.MapGet("/{instanceId}", GetAsync);
            workflows.MapPost("/{instanceId}/raiseEvent/{eventName}", RaiseEventAsync);
            workflows.MapPost("/{instanceId}/terminate", (HttpContext context, string component, string instanceId) =>
                RunAsync(context, component, "ERR_TERMINATE_WORKFLOW", $"error terminating workflow '{instanceId}'", notFoundIs404: true, backend =>
                    backend.TerminateAsync(instanceId, null, recursive: true, context.RequestAborted)));
            workflows.MapPost("/{instanceId}/pause", (HttpContext context, string component, string instanceId) =>
                RunAsync(context, component, "ERR_PAUSE_WORKFLOW", $"error pausing workflow {instanceId}", notFoundIs404: false, backend =>
                    backend.SuspendAsync(instanceId, null, context.RequestAborted)));
            workflows.MapPost("/{instanceId}/resume", (HttpContext context, string component, string instanceId) =>
                RunAsync(context, component, "ERR_RESUME_WORKFLOW", $"error resuming workflow {instanceId}", notFoundIs404: false, backend =>
                    backend.ResumeAsync(instanceId, null, context.RequestAborted)));
            workflows.MapPost("/{instanceId}/purge", (HttpContext context, string component, string instanceId) =>
                RunAsync(context, component, "ERR_PURGE_WORKFLOW", $"error purging workflow {instanceId}", notFoundIs404: false, async backend =>
                {
                    if (await backend.PurgeAsync(instanceId, recursive: true, context.RequestAborted) == 0)
                    {
                        throw WorkflowException.NotFound(instanceId);
                    }
                }));
        }
    }

    private static async Task StartAsync(HttpContext context, string component, string name)
    {
        CheckComponent(component);
        var instanceId = context.Request.Query["instanceID"].ToString();
        if (instanceId.Length == 0)
        {
            instanceId = Guid.NewGuid().ToString();
        }
        else if (instanceId.Length > MaxInstanceIdLength)
        {
            throw Error(StatusCodes.Status400BadRequest, "ERR_INSTANCE_ID_TOO_LONG", $"workflow instance ID exceeds the max length of {MaxInstanceIdLength} characters");
        }
        else if (!instanceId.All(character => char.IsAsciiLetterOrDigit(character) || character is '_' or '-'))
        {
            throw Error(StatusCodes.Status400BadRequest, "ERR_INSTANCE_ID_INVALID", $"workflow instance ID '{instanceId}' is invalid: only alphanumeric and underscore characters are allowed");
        }

        var input = await ReadBodyAsync(context);
        await RunAsync(context, component, "ERR_START_WORKFLOW", $"error starting workflow '{name}'", notFoundIs404: false, async backend =>
        {
            var request = new CreateInstanceRequest { InstanceId = instanceId, Name = name, Input = input };
            await backend.StartAsync(request, context.RequestAborted);
        }, new Dictionary<string, string>(StringComparer.Ordinal) { ["instanceID"] = instanceId });
    }

    private static async Task GetAsync(HttpContext context, string component, string instanceId)
    {
        CheckComponent(component);
        var backend = context.RequestServices.GetRequiredService<WorkflowBackend>();
        InstanceRecord record;
        try
        {
            record = await backend.GetAsync(instanceId, context.RequestAborted);
        }
        catch (WorkflowException exception)
        {
            throw ToError(exception, "ERR_GET_WORKFLOW", $"error while getting workflow info on instance '{instanceId}'", notFoundIs404: true);
        }

        var state = TaskHubService.ToWorkflowState(record, withPayloads: true);
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/json";
        await using var writer = new Utf8JsonWriter(context.Response.BodyWriter);
        writer.WriteStartObject();
        writer.WriteString("instanceID", state.InstanceId);
        writer.WriteString("workflowName", state.Name);
        writer.WriteString("createdAt", ProtoJsonTime(state.CreatedTimestamp));
        writer.WriteString("lastUpdatedAt", ProtoJsonTime(state.LastUpdatedTimestamp));
        writer.WriteString("runtimeStatus", HistoryEvents.StatusText(state.WorkflowStatus));
        writer.WriteStartObject("properties");
        WriteProperty(writer, "dapr.workflow.input", state.Input);
        WriteProperty(writer, "dapr.workflow.custom_status", state.CustomStatus);
        if (state.FailureDetails is { } failure)
        {
            WriteProperty(writer, "dapr.workflow.failure.error_type", failure.ErrorType);
            WriteProperty(writer, "dapr.workflow.failure.error_message", failure.ErrorMessage);
            WriteProperty(writer, "dapr.workflow.failure.stack_trace", failure.StackTrace);
        }
        else
        {
            WriteProperty(writer, "dapr.workflow.output", state.Output);
        }

        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    private static async Task RaiseEventAsync(HttpContext context, string component, string instanceId, string eventName)
    {
        var input = await ReadBodyAsync(context);
        await RunAsync(context, component, "ERR_RAISE_EVENT_WORKFLOW", $"error raising event on workflow '{instanceId}'", notFoundIs404: false, backend =>
            backend.RaiseEventAsync(instanceId, eventName, input, context.RequestAborted));
    }

    /// <summary>Runs a management call and answers 202 with its body (protojson of the response: <c>{}</c> for the void ones).</summary>
    private static async Task RunAsync(
        HttpContext context, string component, string errorCode, string errorPrefix, bool notFoundIs404, Func<WorkflowBackend, Task> call, IReadOnlyDictionary<string, string>? body = null)
    {
        CheckComponent(component);
        try
        {
            await call(context.RequestServices.GetRequiredService<WorkflowBackend>());
        }
        catch (WorkflowException exception)
        {
            throw ToError(exception, errorCode, errorPrefix, notFoundIs404);
        }

        context.Response.StatusCode = StatusCodes.Status202Accepted;
        context.Response.ContentType = "application/json";
        await using var writer = new Utf8JsonWriter(context.Response.BodyWriter);
        writer.WriteStartObject();
        foreach (var (key, value) in body ?? new Dictionary<string, string>(StringComparer.Ordinal))
        {
            writer.WriteString(key, value);
        }

        writer.WriteEndObject();
    }

    private static DaprErrorException ToError(WorkflowException exception, string errorCode, string errorPrefix, bool notFoundIs404) =>
        exception.Kind == WorkflowErrorKind.NotFound && notFoundIs404
            ? Error(StatusCodes.Status404NotFound, "ERR_INSTANCE_ID_NOT_FOUND", $"unable to find workflow with the provided instance ID: {exception.InstanceId}")
            : Error(StatusCodes.Status500InternalServerError, errorCode, $"{errorPrefix}: {exception.Message}");

    private static void CheckComponent(string component)
    {
        if (component != "dapr")
        {
            throw Error(StatusCodes.Status400BadRequest, "ERR_WORKFLOW_COMPONENT_NOT_FOUND", $"workflow component '{component}' does not exist");
        }
    }

    /// <summary>The body, passed on as the input or event data as it is (daprd does not parse it); none when empty.</summary>
    private static async Task<string?> ReadBodyAsync(HttpContext context)
    {
        using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
        var text = await reader.ReadToEndAsync(context.RequestAborted);
        return text.Length == 0 ? null : text;
    }

    private static void WriteProperty(Utf8JsonWriter writer, string name, string? value)
    {
        if (value is not null)
        {
            writer.WriteString(name, value);
        }
    }

    /// <summary>A timestamp as protojson writes it: RFC 3339 in UTC, with 0, 3, 6 or 9 fractional digits.</summary>
    private static string ProtoJsonTime(Timestamp timestamp) => JsonFormatter.Default.Format(timestamp).Trim('"');

    private static DaprErrorException Error(int status, string code, string message) => new(new DaprError(status, code, message));
}
