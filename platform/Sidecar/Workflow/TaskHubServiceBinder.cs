using CloudScale.Sidecar.GrpcApi;
using Dapr.DurableTask.Protobuf;
using Google.Protobuf;
using Grpc.AspNetCore.Server.Model;
using Grpc.Core;
using Empty = Google.Protobuf.WellKnownTypes.Empty;

namespace CloudScale.Sidecar.Workflow;

/// <summary>
/// Binds durable task's <c>TaskHubSidecarService</c> from the descriptor in Dapr.Workflow.Grpc (<see cref="GrpcMethods"/>):
/// every method the Dapr.Workflow 1.19 worker and client call.
/// </summary>
internal sealed class TaskHubServiceBinder : IServiceMethodProvider<TaskHubService>
{
    public void OnServiceMethodDiscovery(ServiceMethodProviderContext<TaskHubService> context)
    {
        Unary<Empty, Empty>(context, "Hello", (_, _, _) => Task.FromResult(new Empty()));
        Unary<CreateInstanceRequest, CreateInstanceResponse>(context, "StartInstance", (service, request, call) => service.StartInstanceAsync(request, call));
        Unary<GetInstanceRequest, GetInstanceResponse>(context, "GetInstance", (service, request, call) => service.GetInstanceAsync(request, call));
        Unary<GetInstanceRequest, GetInstanceResponse>(context, "WaitForInstanceStart", (service, request, call) => service.WaitForInstanceStartAsync(request, call));
        Unary<GetInstanceRequest, GetInstanceResponse>(context, "WaitForInstanceCompletion", (service, request, call) => service.WaitForInstanceCompletionAsync(request, call));
        Unary<RaiseEventRequest, RaiseEventResponse>(context, "RaiseEvent", (service, request, call) => service.RaiseEventAsync(request, call));
        Unary<TerminateRequest, TerminateResponse>(context, "TerminateInstance", (service, request, call) => service.TerminateInstanceAsync(request, call));
        Unary<SuspendRequest, SuspendResponse>(context, "SuspendInstance", (service, request, call) => service.SuspendInstanceAsync(request, call));
        Unary<ResumeRequest, ResumeResponse>(context, "ResumeInstance", (service, request, call) => service.ResumeInstanceAsync(request, call));
        Unary<PurgeInstancesRequest, PurgeInstancesResponse>(context, "PurgeInstances", (service, request, call) => service.PurgeInstancesAsync(request, call));
        Unary<ActivityResponse, CompleteTaskResponse>(context, "CompleteActivityTask", (service, request, call) => service.CompleteActivityTaskAsync(request, call));
        Unary<WorkflowResponse, CompleteTaskResponse>(context, "CompleteOrchestratorTask", (service, request, call) => service.CompleteWorkflowTaskAsync(request, call));
        Unary<WorkflowResponse, CompleteTaskResponse>(context, "CompleteWorkflowTask", (service, request, call) => service.CompleteWorkflowTaskAsync(request, call));
        Unary<GetInstanceHistoryRequest, GetInstanceHistoryResponse>(context, "GetInstanceHistory", (service, request, call) => service.GetInstanceHistoryAsync(request, call));
        Unary<RerunWorkflowFromEventRequest, RerunWorkflowFromEventResponse>(
            context, "RerunWorkflowFromEvent", (service, request, call) => service.RerunWorkflowFromEventAsync(request, call));
        Unary<ListInstanceIDsRequest, ListInstanceIDsResponse>(context, "ListInstanceIDs", (service, request, call) => service.ListInstanceIDsAsync(request, call));
        context.AddServerStreamingMethod(
            GrpcMethods.Create<GetWorkItemsRequest, WorkItem>(TaskHubSidecarService.Descriptor, "GetWorkItems", MethodType.ServerStreaming),
            [],
            (service, request, stream, call) => service.GetWorkItemsAsync(request, stream, call));
    }

    private static void Unary<TRequest, TResponse>(
        ServiceMethodProviderContext<TaskHubService> context, string name, UnaryServerMethod<TaskHubService, TRequest, TResponse> handler)
        where TRequest : class, IMessage<TRequest>, new()
        where TResponse : class, IMessage<TResponse>, new() =>
        context.AddUnaryMethod(GrpcMethods.Create<TRequest, TResponse>(TaskHubSidecarService.Descriptor, name, MethodType.Unary), [], handler);
}
