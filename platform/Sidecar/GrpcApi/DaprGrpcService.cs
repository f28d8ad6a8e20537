using CloudScale.Sidecar.Api;
using CloudScale.Sidecar.Configuration;
using CloudScale.Sidecar.Invocation;
using CloudScale.Sidecar.PubSub;
using CloudScale.Sidecar.State;
using CloudScale.Sidecar.Workflow;
using Dapr.Client.Autogen.Grpc.v1;
using Google.Protobuf;
using Google.Protobuf.Collections;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;

namespace CloudScale.Sidecar.GrpcApi;

/// <summary>
/// daprd's gRPC API (<c>dapr.proto.runtime.v1.Dapr</c>) for state, pub/sub, invocation, metadata and shutdown, on the
/// same store, publish and invocation calls as the HTTP API, so semantics, etags and data layouts are the same; only
/// the value encoding differs as it does in daprd (state values arrive as bytes and are stored as given).
/// </summary>
internal sealed class DaprGrpcService(IServiceProvider services)
{
    private static readonly Empty Empty = new();

    private static readonly HashSet<string> SkippedInvokeHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "content-type", "te", "user-agent", "dapr-api-token", "traceparent", "tracestate", "grpc-accept-encoding", "grpc-timeout",
    };

    private readonly StateStores _stores = services.GetRequiredService<StateStores>();

    public Task<GetStateResponse> GetStateAsync(GetStateRequest request, ServerCallContext context) => Run(async () =>
    {
        var (store, prefix) = _stores.Find(request.StoreName);
        var item = await StateCalls.GetAsync(store, StateStores.ToStoreKey(prefix, request.Key), request.Key, context.CancellationToken);
        var response = new GetStateResponse();
        if (item is not null)
        {
            // The store's array is not touched again: wrapped, not copied.
            response.Data = UnsafeByteOperations.UnsafeWrap(item.Data);
            response.Etag = item.ETag ?? "";
            response.Metadata.AddAll(item.Metadata);
        }

        return response;
    });

    public Task<GetBulkStateResponse> GetBulkStateAsync(GetBulkStateRequest request, ServerCallContext context) => Run(async () =>
    {
        var (store, prefix) = _stores.Find(request.StoreName);
        var storeKeys = request.Keys.Select(key => StateStores.ToStoreKey(prefix, key)).ToList();
        var results = await StateCalls.BulkGetAsync(store, storeKeys, request.Parallelism, context.CancellationToken);
        var response = new GetBulkStateResponse();
        for (var index = 0; index < results.Length; index++)
        {
            var (item, error) = results[index];
            var bulkItem = new BulkStateItem { Key = request.Keys[index], Error = error ?? "" };
            if (item is not null)
            {
                bulkItem.Data = UnsafeByteOperations.UnsafeWrap(item.Data);
                bulkItem.Etag = item.ETag ?? "";
                bulkItem.Metadata.AddAll(item.Metadata);
            }

            response.Items.Add(bulkItem);
        }

        return response;
    });

    public Task<Empty> SaveStateAsync(SaveStateRequest request, ServerCallContext context) => Run(async () =>
    {
        var (store, prefix) = _stores.Find(request.StoreName);
        await StateCalls.SaveAsync(store, [.. request.States.Select(item => ToSet(item, prefix))], context.CancellationToken);
        return Empty;
    });

    public Task<Empty> DeleteStateAsync(DeleteStateRequest request, ServerCallContext context) => Run(async () =>
    {
        var (store, prefix) = _stores.Find(request.StoreName);
        var delete = new DeleteRequest(StateStores.ToStoreKey(prefix, request.Key), request.Etag?.Value, ToOptions(request.Options), request.Metadata);
        await StateCalls.DeleteAsync(store, [(delete, request.Key)], context.CancellationToken);
        return Empty;
    });

    public Task<Empty> DeleteBulkStateAsync(DeleteBulkStateRequest request, ServerCallContext context) => Run(async () =>
    {
        var (store, prefix) = _stores.Find(request.StoreName);
        await StateCalls.DeleteAsync(store, [.. request.States.Select(item => (ToDelete(item, prefix), item.Key))], context.CancellationToken);
        return Empty;
    });

    public Task<Empty> ExecuteStateTransactionAsync(ExecuteStateTransactionRequest request, ServerCallContext context) => Run(async () =>
    {
        var (store, prefix) = _stores.Find(request.StoreName);
        var operations = request.Operations.Select(operation => operation.OperationType switch
        {
            "upsert" => (StateOperation)ToSet(operation.Request, prefix),
            "delete" => ToDelete(operation.Request, prefix),
            var type => throw StateCalls.UnsupportedOperation(type),
        }).ToList();
        await StateCalls.TransactAsync(store, operations, context.CancellationToken);
        return Empty;
    });

    public Task<Empty> PublishEventAsync(PublishEventRequest request, ServerCallContext context) => Run(async () =>
    {
        await PublishApi.PublishAsync(
            services, request.PubsubName, request.Topic, request.Data.ToByteArray(), NullIfEmpty(request.DataContentType),
            new Dictionary<string, string>(request.Metadata, StringComparer.Ordinal), context.CancellationToken);
        return Empty;
    });

    public Task<BulkPublishResponse> BulkPublishEventAsync(BulkPublishRequest request, ServerCallContext context) => Run(async () =>
    {
        var failed = await PublishApi.BulkPublishAsync(
            services, request.PubsubName, request.Topic, new Dictionary<string, string>(request.Metadata, StringComparer.Ordinal),
            (_, _, _) => request.Entries.Select(entry => new PublishApi.BulkEntry(
                entry.EntryId, entry.Event.ToByteArray(), entry.ContentType,
                entry.Metadata.Count > 0 ? new Dictionary<string, string>(entry.Metadata, StringComparer.Ordinal) : null)),
            context.CancellationToken);
        var response = new BulkPublishResponse();
        response.FailedEntries.Add(failed.Select(entry => new BulkPublishResponseFailedEntry { EntryId = entry.EntryId, Error = entry.Error }));
        return response;
    });

    /// <summary>
    /// Invocation over gRPC of an HTTP app, as daprd makes it: the verb from the HTTP extension (POST without one), the
    /// data as the body, metadata as headers; a non-2xx reply is an error built from its status, with
    /// <c>dapr-http-status</c> in the response headers.
    /// </summary>
    public Task<InvokeResponse> InvokeServiceAsync(InvokeServiceRequest request, ServerCallContext context) => Run(async () =>
    {
        var message = request.Message ?? new InvokeRequest();
        var verb = message.HttpExtension is { Verb: not HTTPExtension.Types.Verb.None } extension ? extension.Verb.ToString().ToUpperInvariant() : "POST";
        var query = message.HttpExtension is { Querystring.Length: > 0 } withQuery ? "?" + withQuery.Querystring : "";
        var body = message.Data?.Value.ToByteArray() ?? [];
        var headers = context.RequestHeaders
            .Where(entry => !entry.IsBinary && !entry.Key.StartsWith(':') && !SkippedInvokeHeaders.Contains(entry.Key))
            .Select(entry => KeyValuePair.Create(entry.Key, (IEnumerable<string?>)[entry.Value]))
            .Append(KeyValuePair.Create("Content-Type", (IEnumerable<string?>)[message.ContentType.Length > 0 ? message.ContentType : "text/plain; charset=utf-8"]))
            .ToList();
        var ownAppId = services.GetRequiredService<SidecarOptions>().AppId;
        using var response = await InvocationApi.SendAsync(
            services, request.Id, message.Method, query, isHop: false, InvocationApi.Pipeline(services, request.Id, isHop: false),
            (target, toApp) => InvocationApi.Outgoing(verb, target, new ByteArrayContent(body), headers, ownAppId, request.Id, toApp),
            context.CancellationToken);
        var responseHeaders = new Metadata();
        foreach (var (name, values) in response.Headers.Concat(response.Content.Headers))
        {
            // The gRPC response has its own content type and length; the app's are in InvokeResponse.
            if (!InvocationApi.IsHopByHop(name) && name is not ("Content-Type" or "Content-Length"))
            {
                responseHeaders.Add(name.ToLowerInvariant(), string.Join(", ", values));
            }
        }

        var data = await response.Content.ReadAsByteArrayAsync(context.CancellationToken);
        var status = (int)response.StatusCode;
        if (status is < 200 or >= 300)
        {
            responseHeaders.Add("dapr-http-status", status.ToString(System.Globalization.CultureInfo.InvariantCulture));
            await context.WriteResponseHeadersAsync(responseHeaders);
            throw GrpcErrors.FromHttpStatus(status, System.Text.Encoding.UTF8.GetString(data));
        }

        await context.WriteResponseHeadersAsync(responseHeaders);
        return new InvokeResponse { Data = new Any { Value = ByteString.CopyFrom(data) }, ContentType = response.Content.Headers.ContentType?.ToString() ?? "" };
    });

    public Task<GetMetadataResponse> GetMetadataAsync(GetMetadataRequest request, ServerCallContext context)
    {
        var options = services.GetRequiredService<SidecarOptions>();
        var response = new GetMetadataResponse
        {
            Id = options.AppId,
            RuntimeVersion = RuntimeApi.RuntimeVersion,
            AppConnectionProperties = new AppConnectionProperties { Port = options.AppPort ?? 0, Protocol = options.AppProtocol, ChannelAddress = options.AppChannelAddress },
            Workflows = new MetadataWorkflows { ConnectedWorkers = services.GetRequiredService<WorkflowBackend>().ConnectedWorkers },
        };
        foreach (var (name, type, version, capabilities) in RuntimeApi.Components(services))
        {
            response.RegisteredComponents.Add(new RegisteredComponents { Name = name, Type = type, Version = version, Capabilities = { capabilities } });
        }

        response.ExtendedMetadata.Add("daprRuntimeVersion", RuntimeApi.RuntimeVersion);
        response.ExtendedMetadata.AddAll(services.GetRequiredService<ExtendedMetadata>().Values);
        foreach (var subscription in services.GetRequiredService<SubscriptionRegistry>().Current)
        {
            var rules = new PubsubSubscriptionRules();
            rules.Rules.Add(subscription.Rules.Select(rule => new PubsubSubscriptionRule { Match = rule.Match, Path = rule.Path }));
            if (subscription.DefaultRoute is not null)
            {
                rules.Rules.Add(new PubsubSubscriptionRule { Path = subscription.DefaultRoute });
            }

            var entry = new PubsubSubscription
            {
                PubsubName = subscription.PubsubName,
                Topic = subscription.Topic,
                Rules = rules,
                DeadLetterTopic = subscription.DeadLetterTopic ?? "",
                Type = subscription.Kind == SubscriptionKind.Declarative ? PubsubSubscriptionType.Declarative : PubsubSubscriptionType.Programmatic,
            };
            entry.Metadata.AddAll(subscription.Metadata);
            response.Subscriptions.Add(entry);
        }

        return Task.FromResult(response);
    }

    public static Task<Empty> ShutdownAsync(ShutdownRequest request, ServerCallContext context)
    {
        RuntimeApi.ShutdownAfter(context.GetHttpContext(), force: false);
        return Task.FromResult(Empty);
    }

    /// <summary>Runs a call, turning daprd's errors into gRPC statuses with their rich details.</summary>
    private static async Task<T> Run<T>(Func<Task<T>> call)
    {
        try
        {
            return await call();
        }
        catch (DaprErrorException exception)
        {
            throw GrpcErrors.ToRpcException(exception.Error);
        }
    }

    private static SetRequest ToSet(Dapr.Client.Autogen.Grpc.v1.StateItem item, string? prefix) =>
        new(StateStores.ToStoreKey(prefix, item.Key), StateValue.FromBytes(item.Value.ToByteArray()), item.Etag?.Value, ToOptions(item.Options), item.Metadata);

    private static DeleteRequest ToDelete(Dapr.Client.Autogen.Grpc.v1.StateItem item, string? prefix) =>
        new(StateStores.ToStoreKey(prefix, item.Key), item.Etag?.Value, ToOptions(item.Options), item.Metadata);

    /// <summary>The proto enums as the HTTP API's strings; unspecified is no option.</summary>
    private static State.StateOptions ToOptions(Dapr.Client.Autogen.Grpc.v1.StateOptions? options) => new(
        options?.Concurrency switch
        {
            Dapr.Client.Autogen.Grpc.v1.StateOptions.Types.StateConcurrency.ConcurrencyFirstWrite => "first-write",
            Dapr.Client.Autogen.Grpc.v1.StateOptions.Types.StateConcurrency.ConcurrencyLastWrite => "last-write",
            _ => null,
        },
        options?.Consistency switch
        {
            Dapr.Client.Autogen.Grpc.v1.StateOptions.Types.StateConsistency.ConsistencyEventual => "eventual",
            Dapr.Client.Autogen.Grpc.v1.StateOptions.Types.StateConsistency.ConsistencyStrong => "strong",
            _ => null,
        });

    private static string? NullIfEmpty(string value) => value.Length == 0 ? null : value;
}

internal static class MapFields
{
    public static void AddAll(this MapField<string, string> map, IEnumerable<KeyValuePair<string, string>> entries)
    {
        foreach (var (key, value) in entries)
        {
            map[key] = value;
        }
    }
}
