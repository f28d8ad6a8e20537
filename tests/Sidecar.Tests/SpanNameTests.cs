using System.Diagnostics;
using CloudScale.Testing;
using CloudScale.Testing.Otlp;
using Grpc.Net.Client;

namespace CloudScale.Sidecar.Tests;

/// <summary>The sidecar's server spans are named as daprd names them, by the API path, and health probes are not traced.</summary>
public sealed class SpanNameTests
{
    private const int ServerKind = 2;

    [Fact]
    public async Task Server_spans_are_named_by_the_http_path_and_the_grpc_method_and_healthz_is_not_traced()
    {
        var cancellation = TestContext.Current.CancellationToken;
        await using var collector = await OtlpCollector.StartAsync();
        await using var sidecar = await Sidecars.StartAsync("traced", SidecarResources.Folder(), environment: new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = collector.Endpoint,
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_BSP_SCHEDULE_DELAY"] = "100",
        });
        var httpTrace = ActivityTraceId.CreateRandom().ToHexString();
        var grpcTrace = ActivityTraceId.CreateRandom().ToHexString();

        using (var metadata = new HttpRequestMessage(HttpMethod.Get, "/v1.0/metadata"))
        {
            metadata.Headers.Add("traceparent", $"00-{httpTrace}-{ActivitySpanId.CreateRandom().ToHexString()}-01");
            using var response = await sidecar.Http.SendAsync(metadata, cancellation);
            response.EnsureSuccessStatusCode();
        }

        using (var health = await sidecar.Http.GetAsync("/v1.0/healthz", cancellation))
        {
            health.EnsureSuccessStatusCode();
        }

        using var channel = GrpcChannel.ForAddress(sidecar.GrpcEndpoint);
        var grpc = new global::Dapr.Client.Autogen.Grpc.v1.Dapr.DaprClient(channel);
        await grpc.GetMetadataAsync(new(), new Grpc.Core.Metadata { { "traceparent", $"00-{grpcTrace}-{ActivitySpanId.CreateRandom().ToHexString()}-01" } }, cancellationToken: cancellation);

        ExportedSpan? ServerSpan(string traceId) => collector.Spans.FirstOrDefault(span => span.TraceId == traceId && span.Kind == ServerKind);
        await Poll.UntilAsync(() => ServerSpan(httpTrace) is not null && ServerSpan(grpcTrace) is not null, TimeSpan.FromSeconds(20),
            () => "Exported: " + string.Join(", ", collector.Spans.Select(span => $"{span.Service}/{span.Name} in {span.TraceId}")));

        Assert.Equal(("traced-dapr", "/v1.0/metadata"), (ServerSpan(httpTrace)!.Service, ServerSpan(httpTrace)!.Name));
        Assert.Equal("/dapr.proto.runtime.v1.Dapr/GetMetadata", ServerSpan(grpcTrace)!.Name);
        Assert.DoesNotContain(collector.Spans, span => span.Name.Contains("healthz", StringComparison.Ordinal) || span.Name == "Microsoft.AspNetCore.Hosting.HttpRequestIn");
    }
}
