using Dapr.Client.Autogen.Grpc.v1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.AspNetCore.Server.Model;
using Grpc.Core;

namespace CloudScale.Sidecar.GrpcApi;

/// <summary>
/// Binds <c>dapr.proto.runtime.v1.Dapr</c> from the service descriptor that Dapr.Protos embeds (<see cref="GrpcMethods"/>).
/// Methods not bound here answer Unimplemented, as gRPC does for any unknown method.
/// </summary>
internal sealed class DaprServiceBinder : IServiceMethodProvider<DaprGrpcService>
{
    public void OnServiceMethodDiscovery(ServiceMethodProviderContext<DaprGrpcService> context)
    {
        Unary<GetStateRequest, GetStateResponse>(context, "GetState", (service, request, call) => service.GetStateAsync(request, call));
        Unary<GetBulkStateRequest, GetBulkStateResponse>(context, "GetBulkState", (service, request, call) => service.GetBulkStateAsync(request, call));
        Unary<SaveStateRequest, Empty>(context, "SaveState", (service, request, call) => service.SaveStateAsync(request, call));
        Unary<DeleteStateRequest, Empty>(context, "DeleteState", (service, request, call) => service.DeleteStateAsync(request, call));
        Unary<DeleteBulkStateRequest, Empty>(context, "DeleteBulkState", (service, request, call) => service.DeleteBulkStateAsync(request, call));
        Unary<ExecuteStateTransactionRequest, Empty>(context, "ExecuteStateTransaction", (service, request, call) => service.ExecuteStateTransactionAsync(request, call));
        Unary<PublishEventRequest, Empty>(context, "PublishEvent", (service, request, call) => service.PublishEventAsync(request, call));
        Unary<BulkPublishRequest, BulkPublishResponse>(context, "BulkPublishEvent", (service, request, call) => service.BulkPublishEventAsync(request, call));
        Unary<BulkPublishRequest, BulkPublishResponse>(context, "BulkPublishEventAlpha1", (service, request, call) => service.BulkPublishEventAsync(request, call));
        Unary<InvokeServiceRequest, InvokeResponse>(context, "InvokeService", (service, request, call) => service.InvokeServiceAsync(request, call));
        Unary<GetMetadataRequest, GetMetadataResponse>(context, "GetMetadata", (service, request, call) => service.GetMetadataAsync(request, call));
        Unary<ShutdownRequest, Empty>(context, "Shutdown", (_, request, call) => DaprGrpcService.ShutdownAsync(request, call));
    }

    private static void Unary<TRequest, TResponse>(
        ServiceMethodProviderContext<DaprGrpcService> context, string name, UnaryServerMethod<DaprGrpcService, TRequest, TResponse> handler)
        where TRequest : class, IMessage<TRequest>, new()
        where TResponse : class, IMessage<TResponse>, new() =>
        context.AddUnaryMethod(GrpcMethods.Create<TRequest, TResponse>(global::Dapr.Client.Autogen.Grpc.v1.Dapr.Descriptor, name, MethodType.Unary), [], handler);
}
