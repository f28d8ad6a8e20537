using Dapr.DurableTask.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;

namespace CloudScale.Sidecar.Workflow;

/// <summary>durable task's <c>TaskHubSidecarService</c> on <see cref="WorkflowBackend"/>, as daprd serves it to the workflow SDKs.</summary>
internal sealed class TaskHubService(WorkflowBackend backend, IHostApplicationLifetime lifetime)
{
    public Task<CreateInstanceResponse> StartInstanceAsync(CreateInstanceRequest request, ServerCallContext context) => Run(async () =>
        new CreateInstanceResponse { InstanceId = await backend.StartAsync(request, context.CancellationToken) });

    public Task<GetInstanceResponse> GetInstanceAsync(GetInstanceRequest request, ServerCallContext context) => Run(async () =>
        Found(await backend.GetAsync(request.InstanceId, context.CancellationToken), request.GetInputsAndOutputs));

    public Task<GetInstanceResponse> WaitForInstanceStartAsync(GetInstanceRequest request, ServerCallContext context) => Run(async () =>
        Found(await backend.WaitAsync(request.InstanceId, record => record.Status != OrchestrationStatus.Pending, context.CancellationToken), request.GetInputsAndOutputs));

    public Task<GetInstanceResponse> WaitForInstanceCompletionAsync(GetInstanceRequest request, ServerCallContext context) => Run(async () =>
        Found(await backend.WaitAsync(request.InstanceId, record => record.IsTerminal, context.CancellationToken), request.GetInputsAndOutputs));

    public Task<RaiseEventResponse> RaiseEventAsync(RaiseEventRequest request, ServerCallContext context) => Run(async () =>
    {
        await backend.RaiseEventAsync(request.InstanceId, request.Name, request.Input, context.CancellationToken);
        return new RaiseEventResponse();
    });

    public Task<TerminateResponse> TerminateInstanceAsync(TerminateRequest request, ServerCallContext context) => Run(async () =>
    {
        await backend.TerminateAsync(request.InstanceId, request.Output, request.Recursive, context.CancellationToken);
        return new TerminateResponse();
    });

    public Task<SuspendResponse> SuspendInstanceAsync(SuspendRequest request, ServerCallContext context) => Run(async () =>
    {
        await backend.SuspendAsync(request.InstanceId, request.Reason, context.CancellationToken);
        return new SuspendResponse();
    });

    public Task<ResumeResponse> ResumeInstanceAsync(ResumeRequest request, ServerCallContext context) => Run(async () =>
    {
        await backend.ResumeAsync(request.InstanceId, request.Reason, context.CancellationToken);
        return new ResumeResponse();
    });

    /// <summary>A purge by instance id, or by filter (<see cref="WorkflowBackend.PurgeAsync(PurgeInstanceFilter, bool, CancellationToken)"/>): the count of instances deleted, children included.</summary>
    public Task<PurgeInstancesResponse> PurgeInstancesAsync(PurgeInstancesRequest request, ServerCallContext context) => Run(async () =>
    {
        var purged = request.RequestCase switch
        {
            PurgeInstancesRequest.RequestOneofCase.InstanceId => await backend.PurgeAsync(request.InstanceId, request.Recursive, context.CancellationToken),
            PurgeInstancesRequest.RequestOneofCase.PurgeInstanceFilter => await backend.PurgeAsync(request.PurgeInstanceFilter, request.Recursive, context.CancellationToken),
            _ => throw new WorkflowException(WorkflowErrorKind.InvalidArgument, "give an instance id or a purge instance filter"),
        };
        return new PurgeInstancesResponse { DeletedInstanceCount = purged, IsComplete = true };
    });

    public Task<RerunWorkflowFromEventResponse> RerunWorkflowFromEventAsync(RerunWorkflowFromEventRequest request, ServerCallContext context) => Run(async () =>
        new RerunWorkflowFromEventResponse { NewInstanceID = await backend.RerunAsync(request, context.CancellationToken) });

    public Task<ListInstanceIDsResponse> ListInstanceIDsAsync(ListInstanceIDsRequest request, ServerCallContext context) => Run(async () =>
    {
        var page = await backend.ListAsync(request.HasContinuationToken ? request.ContinuationToken : null, request.HasPageSize ? request.PageSize : null, context.CancellationToken);
        var response = new ListInstanceIDsResponse { InstanceIds = { page.Keys } };
        if (page.ContinuationToken is { } continuationToken)
        {
            response.ContinuationToken = continuationToken;
        }

        return response;
    });

    public Task<CompleteTaskResponse> CompleteActivityTaskAsync(ActivityResponse response, ServerCallContext context) => Run(async () =>
    {
        await backend.CompleteActivityAsync(response, context.CancellationToken);
        return new CompleteTaskResponse();
    });

    public Task<CompleteTaskResponse> CompleteWorkflowTaskAsync(WorkflowResponse response, ServerCallContext context) => Run(async () =>
    {
        await backend.CompleteOrchestrationAsync(response, context.CancellationToken);
        return new CompleteTaskResponse();
    });

    public Task<GetInstanceHistoryResponse> GetInstanceHistoryAsync(GetInstanceHistoryRequest request, ServerCallContext context) => Run(async () =>
    {
        var record = await backend.GetAsync(request.InstanceId, context.CancellationToken);
        var response = new GetInstanceHistoryResponse();
        response.Events.AddRange(record.History.Select(HistoryEvent.Parser.ParseFrom));
        return response;
    });

    /// <summary>The worker's stream: work items as they are claimed for this app, until the worker goes away.</summary>
    public async Task GetWorkItemsAsync(GetWorkItemsRequest request, IServerStreamWriter<WorkItem> responses, ServerCallContext context)
    {
        if (!backend.IsConfigured)
        {
            throw ToRpcException(WorkflowBackend.NotConfigured());
        }

        // The stream ends with the sidecar too: a graceful stop must not wait for the worker to hang up.
        using var ended = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, lifetime.ApplicationStopping);
        var stream = backend.Connect();
        try
        {
            await backend.ScanAsync(ended.Token);
            await foreach (var item in stream.Items.Reader.ReadAllAsync(ended.Token))
            {
                await responses.WriteAsync(item, ended.Token);
            }
        }
        catch (OperationCanceledException) when (ended.IsCancellationRequested)
        {
            // The worker closed its stream, or the sidecar is stopping.
        }
        finally
        {
            await backend.DisconnectAsync(stream);
        }
    }

    /// <summary>The instance as GetInstance reports it; inputs, output and custom status only when asked for.</summary>
    public static WorkflowState ToWorkflowState(InstanceRecord record, bool withPayloads)
    {
        var state = new WorkflowState
        {
            InstanceId = record.InstanceId,
            Name = record.Name,
            WorkflowStatus = record.Status,
            CreatedTimestamp = Timestamp.FromDateTimeOffset(InstanceSteps.FromMilliseconds(record.CreatedAt)),
            LastUpdatedTimestamp = Timestamp.FromDateTimeOffset(InstanceSteps.FromMilliseconds(record.LastUpdatedAt)),
            ExecutionId = record.ExecutionId,
            FailureDetails = record.FailureDetails is { } failure ? TaskFailureDetails.Parser.ParseFrom(failure) : null,
            ParentInstanceId = record.ParentInstance is { } parent ? ParentInstanceInfo.Parser.ParseFrom(parent).WorkflowInstance.InstanceId : null,
        };
        if (record.CompletedAt is { } completed)
        {
            state.CompletedTimestamp = Timestamp.FromDateTimeOffset(InstanceSteps.FromMilliseconds(completed));
        }

        if (record.ScheduledStartAt is { } scheduled)
        {
            state.ScheduledStartTimestamp = Timestamp.FromDateTimeOffset(InstanceSteps.FromMilliseconds(scheduled));
        }

        if (withPayloads)
        {
            state.Input = record.Input;
            state.Output = record.Output;
            state.CustomStatus = record.CustomStatus;
        }

        return state;
    }

    private static GetInstanceResponse Found(InstanceRecord record, bool withPayloads) =>
        new() { Exists = true, WorkflowState = ToWorkflowState(record, withPayloads) };

    private static async Task<T> Run<T>(Func<Task<T>> call)
    {
        try
        {
            return await call();
        }
        catch (WorkflowException exception)
        {
            throw ToRpcException(exception);
        }
    }

    private static RpcException ToRpcException(WorkflowException exception) => new(new Status(ToStatusCode(exception.Kind), exception.Message));

    private static StatusCode ToStatusCode(WorkflowErrorKind kind) => kind switch
    {
        WorkflowErrorKind.NotConfigured or WorkflowErrorKind.NotTerminal => StatusCode.FailedPrecondition,
        WorkflowErrorKind.NotFound or WorkflowErrorKind.StaleCompletion => StatusCode.NotFound,
        WorkflowErrorKind.InvalidArgument => StatusCode.InvalidArgument,
        WorkflowErrorKind.AlreadyExists => StatusCode.AlreadyExists,
        _ => StatusCode.Unknown,
    };
}
