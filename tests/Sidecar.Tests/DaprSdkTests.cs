using System.Diagnostics;
using System.Text;
using System.Text.Json;
using CloudScale.Testing;
using Dapr;
using Dapr.Client;
using Grpc.Net.Client;
using Grpc.Core;
using StackExchange.Redis;

namespace CloudScale.Sidecar.Tests;

/// <summary>The sidecar driven by the real <see cref="DaprClient"/> 1.19.1: state and pub/sub over gRPC, invocation over HTTP.</summary>
public sealed class DaprSdkTests(DaprSdkFixture fixture) : IClassFixture<DaprSdkFixture>
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(15);

    private DaprClient Client => fixture.Client;

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task State_saved_over_grpc_is_stored_as_sent_with_a_version_etag_that_must_match()
    {
        await Client.SaveStateAsync("statestore", "widget", new Widget("gear", 3), cancellationToken: Cancel);

        var (widget, etag) = await Client.GetStateAndETagAsync<Widget>("statestore", "widget", cancellationToken: Cancel);
        Assert.Equal(new Widget("gear", 3), widget);
        Assert.Equal("1", etag);
        // contrib stores a gRPC value's bytes as given: the SDK's camelCase JSON, in the hash daprd writes.
        var fields = await fixture.Redis.HashGetAllAsync($"{fixture.AppId}||widget");
        Assert.Equal("""{"name":"gear","count":3}""", fields.Single(field => field.Name == "data").Value.ToString());
        Assert.Equal("1", fields.Single(field => field.Name == "version").Value.ToString());

        Assert.False(await Client.TrySaveStateAsync("statestore", "widget", new Widget("gear", 4), "7", cancellationToken: Cancel));
        Assert.True(await Client.TrySaveStateAsync("statestore", "widget", new Widget("gear", 5), "1", cancellationToken: Cancel));
        Assert.Equal(new Widget("gear", 5), await Client.GetStateAsync<Widget>("statestore", "widget", cancellationToken: Cancel));
        Assert.False(await Client.TryDeleteStateAsync("statestore", "widget", "1", cancellationToken: Cancel));
        Assert.True(await Client.TryDeleteStateAsync("statestore", "widget", "2", cancellationToken: Cancel));
        Assert.Null(await Client.GetStateAsync<Widget>("statestore", "widget", cancellationToken: Cancel));
    }

    [Fact]
    public async Task A_first_write_save_refuses_a_second_write_without_its_etag()
    {
        var firstWrite = new StateOptions { Concurrency = ConcurrencyMode.FirstWrite };
        await Client.SaveStateAsync("statestore", "first", new Widget("a", 1), firstWrite, cancellationToken: Cancel);

        // Without an etag contrib's refusal is a plain store error, as daprd reports it: Internal, not Aborted.
        var refused = await Assert.ThrowsAsync<DaprException>(() => Client.SaveStateAsync("statestore", "first", new Widget("b", 2), firstWrite, cancellationToken: Cancel));
        Assert.Equal(StatusCode.Internal, Assert.IsType<RpcException>(refused.InnerException).StatusCode);
        Assert.True(await Client.TrySaveStateAsync("statestore", "first", new Widget("c", 3), "1", firstWrite, cancellationToken: Cancel));
        Assert.Equal(new Widget("c", 3), await Client.GetStateAsync<Widget>("statestore", "first", cancellationToken: Cancel));
    }

    [Fact]
    public async Task Bulk_save_get_and_delete_go_by_key_and_a_missing_key_has_no_value()
    {
        await Client.SaveBulkStateAsync("statestore",
            [new SaveStateItem<Widget>("bulk-1", new Widget("one", 1), ""), new SaveStateItem<Widget>("bulk-2", new Widget("two", 2), "")], Cancel);

        var items = await Client.GetBulkStateAsync("statestore", ["bulk-1", "bulk-2", "bulk-none"], parallelism: 2, cancellationToken: Cancel);
        Assert.Equal(["bulk-1", "bulk-2", "bulk-none"], items.Select(item => item.Key), StringComparer.Ordinal);
        Assert.Equal("""{"name":"one","count":1}""", items[0].Value);
        Assert.Equal("1", items[1].ETag);
        Assert.Equal("", items[2].Value);

        await Client.DeleteBulkStateAsync("statestore", [new BulkDeleteStateItem("bulk-1", "1"), new BulkDeleteStateItem("bulk-2", "1")], Cancel);
        Assert.False(await fixture.Redis.KeyExistsAsync($"{fixture.AppId}||bulk-1"));
        Assert.False(await fixture.Redis.KeyExistsAsync($"{fixture.AppId}||bulk-2"));
    }

    [Fact]
    public async Task A_transaction_with_a_stale_etag_fails_and_postgres_rolls_it_back()
    {
        await Client.SaveStateAsync("pg", "account", new Widget("balance", 10), cancellationToken: Cancel);
        var (_, etag) = await Client.GetStateAndETagAsync<Widget>("pg", "account", cancellationToken: Cancel);
        await Client.ExecuteStateTransactionAsync("pg",
            [new StateTransactionRequest("account", Json(new Widget("balance", 20)), StateOperationType.Upsert, etag)], cancellationToken: Cancel);

        var failed = await Assert.ThrowsAsync<DaprException>(() => Client.ExecuteStateTransactionAsync("pg",
            [
                new StateTransactionRequest("audit", Json(new Widget("entry", 1)), StateOperationType.Upsert),
                new StateTransactionRequest("account", Json(new Widget("balance", 30)), StateOperationType.Upsert, etag),
            ], cancellationToken: Cancel));

        // An etag mismatch inside a transaction is Internal (HTTP 500), never Aborted; nothing of it was applied.
        Assert.Equal(StatusCode.Internal, Assert.IsType<RpcException>(failed.InnerException).StatusCode);
        Assert.Equal(new Widget("balance", 20), await Client.GetStateAsync<Widget>("pg", "account", cancellationToken: Cancel));
        Assert.Null(await Client.GetStateAsync<Widget>("pg", "audit", cancellationToken: Cancel));
    }

    [Fact]
    public async Task An_unknown_store_is_invalid_argument_with_daprs_error_info()
    {
        var error = await Assert.ThrowsAsync<DaprException>(() => Client.GetStateAsync<Widget>("nowhere", "key", cancellationToken: Cancel));

        var status = Assert.IsType<RpcException>(error.InnerException);
        Assert.Equal(StatusCode.InvalidArgument, status.StatusCode);
        Assert.Equal("state store nowhere is not found", status.Status.Detail);
        // Read from the trailer: the SDK's own reader (TryGetExtendedErrorInfo) expects "Google.rpc" type URLs, which
        // neither daprd nor protobuf writes, and reports the detail as unknown.
        var details = Google.Rpc.Status.Parser.ParseFrom(status.Trailers.GetValueBytes("grpc-status-details-bin"));
        var info = Assert.Single(details.Details).Unpack<Google.Rpc.ErrorInfo>();
        Assert.Equal("DAPR_STATE_NOT_FOUND", info.Reason);
        Assert.Equal("dapr.io", info.Domain);
    }

    [Fact]
    public async Task A_published_event_is_stored_as_daprds_cloudevent_with_the_callers_trace_and_reaches_the_subscription()
    {
        using var activity = new Activity("publisher").SetIdFormat(ActivityIdFormat.W3C).Start();
        await Client.PublishEventAsync("pubsub", fixture.OrdersTopic, new Widget("order", 1), Cancel);
        activity.Stop();

        await Poll.UntilAsync(() => fixture.Orders.Any(order => order.Contains("\"order\"", StringComparison.Ordinal)), Deadline, () => fixture.Sidecar.Output);
        var entries = await RedisStreams.EntriesAsync(fixture.Redis, fixture.OrdersTopic);
        var entry = entries[^1];
        using var cloudEvent = JsonDocument.Parse(entry.Single(field => field.Field == "data").Value);
        var root = cloudEvent.RootElement;
        // daprd decodes JSON data into the envelope and encodes it again: keys sorted.
        Assert.Equal("""{"count":1,"name":"order"}""", root.GetProperty("data").GetRawText());
        Assert.Equal("application/json", root.GetProperty("datacontenttype").GetString());
        Assert.Equal(fixture.AppId, root.GetProperty("source").GetString());
        Assert.Equal("com.dapr.event.sent", root.GetProperty("type").GetString());
        Assert.Equal("pubsub", root.GetProperty("pubsubname").GetString());
        Assert.Equal(fixture.OrdersTopic, root.GetProperty("topic").GetString());
        Assert.Contains(activity.TraceId.ToHexString(), root.GetProperty("traceparent").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_raw_payload_is_stored_as_the_bytes_sent()
    {
        var topic = $"raw-{fixture.AppId}";
        await Client.PublishEventAsync("pubsub", topic, new Widget("raw", 1), new Dictionary<string, string>(StringComparer.Ordinal) { ["rawPayload"] = "true" }, Cancel);

        var entry = Assert.Single(await RedisStreams.EntriesAsync(fixture.Redis, topic));
        Assert.Equal("""{"name":"raw","count":1}""", Encoding.UTF8.GetString(entry.Single(field => field.Field == "data").Value));
    }

    [Fact]
    public async Task Bulk_publish_stores_each_event_in_its_own_cloudevent()
    {
        var topic = $"bulk-{fixture.AppId}";
        var response = await Client.BulkPublishEventAsync("pubsub", topic, [new Widget("x", 1), new Widget("y", 2)], cancellationToken: Cancel);

        Assert.Empty(response.FailedEntries);
        var entries = await RedisStreams.EntriesAsync(fixture.Redis, topic);
        var events = entries.Select(entry => JsonDocument.Parse(entry.Single(field => field.Field == "data").Value).RootElement).ToList();
        Assert.Equal(["""{"count":1,"name":"x"}""", """{"count":2,"name":"y"}"""], events.Select(cloudEvent => cloudEvent.GetProperty("data").GetRawText()), StringComparer.Ordinal);
        Assert.Equal(2, events.Select(cloudEvent => cloudEvent.GetProperty("id").GetString()).Distinct(StringComparer.Ordinal).Count());

        // The SDK calls BulkPublishEvent; older SDKs call its Alpha1 name, which is served too.
        using var channel = GrpcChannel.ForAddress(fixture.Sidecar.GrpcEndpoint);
#pragma warning disable CS0612 // The proto marks the Alpha1 name deprecated; it is what older SDKs still call.
        var alpha = await new global::Dapr.Client.Autogen.Grpc.v1.Dapr.DaprClient(channel).BulkPublishEventAlpha1Async(
            new() { PubsubName = "pubsub", Topic = topic, Entries = { new global::Dapr.Client.Autogen.Grpc.v1.BulkPublishRequestEntry { EntryId = "z", Event = Google.Protobuf.ByteString.CopyFromUtf8("zed"), ContentType = "text/plain" } } },
            cancellationToken: Cancel);
#pragma warning restore CS0612
        Assert.Empty(alpha.FailedEntries);
        Assert.Equal(3, (await RedisStreams.EntriesAsync(fixture.Redis, topic)).Count);
    }

    [Fact]
    public async Task Invocation_over_http_reaches_the_app()
    {
#pragma warning disable CS0618 // Dapr.Client 1.19 marks its invocation methods obsolete in favour of an HttpClient; services still call them.
        var echoed = await Client.InvokeMethodAsync<Widget, Widget>(fixture.AppId, "echo", new Widget("ping", 1), Cancel);
#pragma warning restore CS0618

        Assert.Equal(new Widget("ping", 1), echoed);
    }

    [Fact]
    public async Task Metadata_over_grpc_lists_the_app_components_and_the_sdk_subscription()
    {
        var metadata = await Client.GetMetadataAsync(Cancel);
        Assert.Equal(fixture.AppId, metadata.Id);
        Assert.Equal(["pg", "pubsub", "statestore"], metadata.Components.Select(component => component.Name).Order(StringComparer.Ordinal), StringComparer.Ordinal);
        Assert.Contains("ETAG", metadata.Components.Single(component => component.Name == "statestore").Capabilities, StringComparer.Ordinal);

        // DaprClient's metadata has no subscriptions; the generated client reads them from the same RPC.
        using var channel = GrpcChannel.ForAddress(fixture.Sidecar.GrpcEndpoint);
        var raw = new global::Dapr.Client.Autogen.Grpc.v1.Dapr.DaprClient(channel);
        await Poll.UntilAsync(async () => (await raw.GetMetadataAsync(new(), cancellationToken: Cancel)).Subscriptions.Count > 0, Deadline, () => fixture.Sidecar.Output);
        var subscription = Assert.Single((await raw.GetMetadataAsync(new(), cancellationToken: Cancel)).Subscriptions);
        Assert.Equal(("pubsub", fixture.OrdersTopic), (subscription.PubsubName, subscription.Topic));
        Assert.Equal("orders", Assert.Single(subscription.Rules.Rules).Path);
    }

    [Fact]
    public async Task Invoke_service_over_grpc_calls_the_http_app_and_other_methods_are_unimplemented()
    {
        using var channel = GrpcChannel.ForAddress(fixture.Sidecar.GrpcEndpoint);
        var raw = new global::Dapr.Client.Autogen.Grpc.v1.Dapr.DaprClient(channel);

        var response = await raw.InvokeServiceAsync(
            new() { Id = fixture.AppId, Message = new() { Method = "echo", ContentType = "application/json", Data = new() { Value = Google.Protobuf.ByteString.CopyFromUtf8("""{"n":1}""") } } },
            cancellationToken: Cancel);
        Assert.Equal("""{"n":1}""", response.Data.Value.ToStringUtf8());
        Assert.StartsWith("application/json", response.ContentType, StringComparison.Ordinal);

        var missing = await Assert.ThrowsAsync<RpcException>(async () => await raw.InvokeServiceAsync(new() { Id = fixture.AppId, Message = new() { Method = "nowhere" } }, cancellationToken: Cancel));
        Assert.Equal(StatusCode.NotFound, missing.StatusCode);
        var unimplemented = await Assert.ThrowsAsync<RpcException>(async () => await raw.GetSecretAsync(new() { StoreName = "secrets", Key = "k" }, cancellationToken: Cancel));
        Assert.Equal(StatusCode.Unimplemented, unimplemented.StatusCode);
    }

    [Fact]
    public async Task With_an_api_token_calls_without_it_are_refused_on_both_apis()
    {
        const string Token = "sdk-token";
        await using var sidecar = await Sidecars.StartAsync($"{fixture.AppId}-token", SidecarResources.Folder(), environment: new Dictionary<string, string>(StringComparer.Ordinal) { ["DAPR_API_TOKEN"] = Token });
        using var anonymous = DaprSdkFixture.NewClient(sidecar);
        using var trusted = DaprSdkFixture.NewClient(sidecar, Token);

        var grpc = await Assert.ThrowsAsync<DaprException>(() => anonymous.GetMetadataAsync(Cancel));
        Assert.Equal(StatusCode.Unauthenticated, Assert.IsType<RpcException>(grpc.InnerException).StatusCode);
#pragma warning disable CS0618 // Dapr.Client 1.19 marks its invocation methods obsolete in favour of an HttpClient; services still call them.
        using var request = anonymous.CreateInvokeMethodRequest(HttpMethod.Get, "anyone", "anything");
        using var http = await anonymous.InvokeMethodWithResponseAsync(request, Cancel);
#pragma warning restore CS0618
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, http.StatusCode);

        Assert.Equal(sidecar.Settings.AppId, (await trusted.GetMetadataAsync(Cancel)).Id);

        // The HTTP API is not reachable, token-free, on the gRPC port over HTTP/2.
        using var h2c = new HttpClient { DefaultRequestVersion = System.Net.HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };
        using var sideDoor = await h2c.GetAsync(new Uri(sidecar.GrpcEndpoint, "/v1.0/metadata"), Cancel);
        Assert.Equal(System.Net.HttpStatusCode.NotFound, sideDoor.StatusCode);
    }

    [Fact]
    public async Task Shutdown_over_grpc_stops_the_sidecar()
    {
        await using var sidecar = await Sidecars.StartAsync($"{fixture.AppId}-shutdown", SidecarResources.Folder());
        using var client = DaprSdkFixture.NewClient(sidecar);

        await client.ShutdownSidecarAsync(Cancel);

        await Poll.UntilAsync(() => !ProcessInfo.IsRunning(sidecar.ProcessId), Deadline, () => sidecar.Output);
    }

    private static byte[] Json<T>(T value) => JsonSerializer.SerializeToUtf8Bytes(value, JsonSerializerOptions.Web);

    internal sealed record Widget(string Name, int Count);
}
