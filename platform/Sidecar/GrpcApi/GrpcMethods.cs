using Google.Protobuf;
using Grpc.Core;

namespace CloudScale.Sidecar.GrpcApi;

/// <summary>
/// gRPC methods bound by hand from a service descriptor that a package embeds (the Dapr packages ship client stubs
/// only): each method is checked against the descriptor, so a name or message type that drifts from the proto fails
/// at start-up.
/// </summary>
internal static class GrpcMethods
{
    public static Method<TRequest, TResponse> Create<TRequest, TResponse>(Google.Protobuf.Reflection.ServiceDescriptor service, string name, MethodType type)
        where TRequest : class, IMessage<TRequest>, new()
        where TResponse : class, IMessage<TResponse>, new()
    {
        var descriptor = service.FindMethodByName(name) ?? throw new InvalidOperationException($"{service.FullName} has no method {name}");
        if (descriptor.InputType.ClrType != typeof(TRequest) || descriptor.OutputType.ClrType != typeof(TResponse))
        {
            throw new InvalidOperationException($"{descriptor.FullName} takes {descriptor.InputType.FullName} and returns {descriptor.OutputType.FullName}");
        }

        if (descriptor.IsServerStreaming != (type == MethodType.ServerStreaming) || descriptor.IsClientStreaming)
        {
            throw new InvalidOperationException($"{descriptor.FullName} is not a {type} method");
        }

        return new Method<TRequest, TResponse>(type, service.FullName, name, Marshaller<TRequest>(), Marshaller<TResponse>());
    }

    private static Marshaller<T> Marshaller<T>()
        where T : class, IMessage<T>, new()
    {
        var parser = new MessageParser<T>(() => new T());
        return Marshallers.Create(
            (message, serialization) =>
            {
                serialization.SetPayloadLength(message.CalculateSize());
                message.WriteTo(serialization.GetBufferWriter());
                serialization.Complete();
            },
            deserialization => parser.ParseFrom(deserialization.PayloadAsReadOnlySequence()));
    }
}
