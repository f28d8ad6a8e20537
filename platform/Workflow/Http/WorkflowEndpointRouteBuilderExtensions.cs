using System.Globalization;
using System.Text.Json.Serialization;
using CloudScale.Workflow;
using CloudScale.Workflow.Engine;
using Dapr.Workflow;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Microsoft.AspNetCore.Builder;

public static class WorkflowEndpointRouteBuilderExtensions
{
    /// <summary>daprd registers every workflow route under all three API versions (v1.0 since 1.15).</summary>
    private static readonly string[] ApiVersions = ["v1.0-alpha1", "v1.0-beta1", "v1.0"];

    /// <summary>
    /// Maps daprd's workflow management API (<c>/v1.0/workflows/dapr/…</c>: start, get, raiseEvent, terminate, pause,
    /// resume, purge) onto this application's engine, with daprd's status codes and error bodies. The returned builder
    /// applies conventions to all of them, e.g. <c>.RequireAuthorization()</c>.
    /// </summary>
    public static IEndpointConventionBuilder MapDaprWorkflowApi(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var api = endpoints.MapGroup("");
        foreach (var version in ApiVersions)
        {
            var workflows = api.MapGroup($"/{version}/workflows/dapr");
            workflows.MapPost("/{workflowName}/start", (string workflowName, HttpContext context) =>
                GuardAsync("ERR_START_WORKFLOW", () => StartAsync(workflowName, context)));
            workflows.MapGet("/{instanceId}", (string instanceId, HttpContext context) =>
                GuardAsync("ERR_GET_WORKFLOW", () => GetAsync(instanceId, context)));
            workflows.MapPost("/{instanceId}/raiseEvent/{eventName}", (string instanceId, string eventName, HttpContext context) =>
                SendAsync(context, instanceId, "ERR_RAISE_EVENT_WORKFLOW", async now => new EventRaised(now, eventName, await ReadBodyAsync(context.Request))));
            workflows.MapPost("/{instanceId}/terminate", (string instanceId, HttpContext context) =>
                SendAsync(context, instanceId, "ERR_TERMINATE_WORKFLOW", now => Task.FromResult<HistoryEvent>(new ExecutionTerminated(now, null))));
            workflows.MapPost("/{instanceId}/pause", (string instanceId, HttpContext context) =>
                SendAsync(context, instanceId, "ERR_PAUSE_WORKFLOW", now => Task.FromResult<HistoryEvent>(new ExecutionSuspended(now, null))));
            workflows.MapPost("/{instanceId}/resume", (string instanceId, HttpContext context) =>
                SendAsync(context, instanceId, "ERR_RESUME_WORKFLOW", now => Task.FromResult<HistoryEvent>(new ExecutionResumed(now, null))));
            workflows.MapPost("/{instanceId}/purge", (string instanceId, HttpContext context) =>
                GuardAsync("ERR_PURGE_WORKFLOW", () => PurgeAsync(instanceId, context)));
        }

        return api;
    }

    private static async Task<IResult> StartAsync(string workflowName, HttpContext context)
    {
        var instanceId = context.Request.Query["instanceID"].ToString();
        if (instanceId.Length == 0)
        {
            instanceId = Guid.NewGuid().ToString();
        }

        if (InstanceIds.IsTooLong(instanceId))
        {
            return Error(StatusCodes.Status400BadRequest, "ERR_INSTANCE_ID_TOO_LONG", InstanceIds.TooLongMessage);
        }

        if (!InstanceIds.IsValid(instanceId))
        {
            return Error(StatusCodes.Status400BadRequest, "ERR_INSTANCE_ID_INVALID", InstanceIds.InvalidMessage(instanceId));
        }

        // daprd passes the body on as the serialized input, unparsed.
        var engine = context.RequestServices.GetRequiredService<WorkflowEngine>();
        await engine.ScheduleAsync(workflowName, instanceId, await ReadBodyAsync(context.Request), startAt: null, context.RequestAborted);
        return Results.Json(new StartResponse(instanceId), statusCode: StatusCodes.Status202Accepted);
    }

    private static async Task<IResult> GetAsync(string instanceId, HttpContext context)
    {
        var engine = context.RequestServices.GetRequiredService<WorkflowEngine>();
        if (await engine.GetMetadataAsync(instanceId, context.RequestAborted) is not { } metadata)
        {
            return NotFound(instanceId);
        }

        var properties = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["dapr.workflow.input"] = metadata.SerializedInput ?? "",
            ["dapr.workflow.custom_status"] = metadata.SerializedCustomStatus ?? "",
        };
        if (metadata.FailureDetails is { } failure)
        {
            properties["dapr.workflow.failure.error_type"] = failure.ErrorType;
            properties["dapr.workflow.failure.error_message"] = failure.ErrorMessage;
            properties["dapr.workflow.failure.stack_trace"] = failure.StackTrace ?? "";
        }
        else
        {
            properties["dapr.workflow.output"] = metadata.SerializedOutput ?? "";
        }

        return Results.Json(new GetResponse(
            metadata.InstanceId,
            metadata.Name,
            ProtoTimestamp(metadata.CreatedAt),
            ProtoTimestamp(metadata.LastUpdatedAt),
            StatusName(metadata.RuntimeStatus),
            properties));
    }

    private static async Task<IResult> PurgeAsync(string instanceId, HttpContext context)
    {
        var engine = context.RequestServices.GetRequiredService<WorkflowEngine>();
        return await engine.PurgeAsync(instanceId, context.RequestAborted) switch
        {
            PurgeOutcome.NotFound => NotFound(instanceId),
            PurgeOutcome.NotFinished => Error(
                StatusCodes.Status500InternalServerError,
                "ERR_PURGE_WORKFLOW",
                $"failed to purge workflow '{instanceId}': only COMPLETED, FAILED or TERMINATED workflows can be purged"),
            _ => Accepted(),
        };
    }

    private static Task<IResult> SendAsync(HttpContext context, string instanceId, string errorCode, Func<DateTimeOffset, Task<HistoryEvent>> message) =>
        GuardAsync(errorCode, async () =>
        {
            var engine = context.RequestServices.GetRequiredService<WorkflowEngine>();
            return await engine.SendAsync(instanceId, await message(engine.Now), context.RequestAborted) ? Accepted() : NotFound(instanceId);
        });

    /// <summary>An operation the engine refuses (an active instance with the ID) or the state store fails is daprd's 500 with the operation's code.</summary>
    private static async Task<IResult> GuardAsync(string errorCode, Func<Task<IResult>> operation)
    {
        try
        {
            return await operation();
        }
        catch (Exception exception) when (exception is InvalidOperationException or HttpRequestException)
        {
            return Error(StatusCodes.Status500InternalServerError, errorCode, exception.Message);
        }
    }

    private static async Task<string?> ReadBodyAsync(HttpRequest request)
    {
        using var reader = new StreamReader(request.Body);
        var body = await reader.ReadToEndAsync(request.HttpContext.RequestAborted);
        return body.Length == 0 ? null : body;
    }

    /// <summary>daprd answers void operations with protojson's empty message.</summary>
    private static IResult Accepted() => Results.Text("{}", "application/json", statusCode: StatusCodes.Status202Accepted);

    private static IResult NotFound(string instanceId) => Error(
        StatusCodes.Status404NotFound, "ERR_INSTANCE_ID_NOT_FOUND", DaprWorkflowClient.NotFoundMessage(instanceId));

    private static IResult Error(int status, string errorCode, string message) => Results.Json(new ErrorResponse(errorCode, message), statusCode: status);

    private static string StatusName(WorkflowRuntimeStatus status) => status switch
    {
        WorkflowRuntimeStatus.Running => "RUNNING",
        WorkflowRuntimeStatus.Completed => "COMPLETED",
        WorkflowRuntimeStatus.ContinuedAsNew => "CONTINUED_AS_NEW",
        WorkflowRuntimeStatus.Failed => "FAILED",
        WorkflowRuntimeStatus.Canceled => "CANCELED",
        WorkflowRuntimeStatus.Terminated => "TERMINATED",
        WorkflowRuntimeStatus.Pending => "PENDING",
        WorkflowRuntimeStatus.Suspended => "SUSPENDED",
        _ => "UNKNOWN",
    };

    /// <summary>protojson's Timestamp: RFC 3339 in UTC with 0, 3, 6 or 9 fractional digits.</summary>
    private static string ProtoTimestamp(DateTimeOffset time)
    {
        var utc = time.UtcDateTime;
        var nanos = utc.Ticks % TimeSpan.TicksPerSecond * 100;
        var fraction = nanos switch
        {
            0 => "",
            _ when nanos % 1_000_000 == 0 => "." + (nanos / 1_000_000).ToString("D3", CultureInfo.InvariantCulture),
            _ when nanos % 1_000 == 0 => "." + (nanos / 1_000).ToString("D6", CultureInfo.InvariantCulture),
            _ => "." + nanos.ToString("D9", CultureInfo.InvariantCulture),
        };
        return utc.ToString("yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture) + fraction + "Z";
    }

    private sealed record StartResponse([property: JsonPropertyName("instanceID")] string InstanceId);

    private sealed record GetResponse(
        [property: JsonPropertyName("instanceID")] string InstanceId,
        string WorkflowName,
        string CreatedAt,
        string LastUpdatedAt,
        string RuntimeStatus,
        IReadOnlyDictionary<string, string> Properties);

    private sealed record ErrorResponse(string ErrorCode, string Message);
}
