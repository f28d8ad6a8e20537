using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using Aspire.Hosting.Dapr;
using CloudScale.Testing;
using Dapr.Client.Autogen.Grpc.v1;
using Google.Protobuf;
using Grpc.AspNetCore.Server.Model;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace CloudScale.Sidecar.Benchmarks;

/// <summary>
/// The app invoked through the sidecars: raw Kestrel answering a tiny body, so the figures show the sidecars' cost. It
/// also answers a state get from Redis as state.redis stores it, through one bare hop in front of StackExchange.Redis:
/// <c>/state/{key}</c> over HTTP/1.1, and Dapr's <c>GetState</c> over gRPC on <see cref="GrpcPort"/>, the ceilings of
/// any HTTP or gRPC service (a sidecar included) on the same machine. It runs in a process of its own, as a service and
/// a sidecar do: in the callers' process, its work would be picked up by their already spinning pool threads.
/// </summary>
internal sealed class TargetApp(TrackedProcess process, int port, int grpcPort) : IAsyncDisposable
{
    public const string ServeCommandName = "serve-target";

    public int ProcessId => process.Id;

    public int Port { get; } = port;

    public int GrpcPort { get; } = grpcPort;

    /// <summary>Starts this benchmark's own executable as the target app, and waits until it answers.</summary>
    public static async Task<TargetApp> StartAsync(string redisConnectionString, string appId)
    {
        var (port, grpcPort) = (LoopbackPorts.Free(), LoopbackPorts.Free());
        var host = Environment.ProcessPath ?? throw new InvalidOperationException("The benchmark's executable is unknown.");
        var start = new ProcessStartInfo(host);
        if (Path.GetFileNameWithoutExtension(host) == "dotnet")
        {
            start.ArgumentList.Add(typeof(TargetApp).Assembly.Location);
        }

        foreach (var argument in new[] { ServeCommandName, redisConnectionString, appId, port.ToString(CultureInfo.InvariantCulture), grpcPort.ToString(CultureInfo.InvariantCulture) })
        {
            start.ArgumentList.Add(argument);
        }

        var process = TrackedProcess.Start(start, "target-app");
        using var probe = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        await process.WaitUntilAnswersAsync(probe, "/echo", TimeSpan.FromSeconds(30));
        return new TargetApp(process, port, grpcPort);
    }

    /// <summary>The command the benchmark starts its own executable with to serve as the target app, until killed.</summary>
    public static RootCommand ServeCommand()
    {
        var redisConnection = new Argument<string>("redis-connection");
        var appId = new Argument<string>("app-id");
        var port = new Argument<int>("port");
        var grpcPort = new Argument<int>("grpc-port");
        var command = new RootCommand("Serves as the target app (the benchmark starts it).") { redisConnection, appId, port, grpcPort };
        command.SetAction(async (parsed, cancellation) =>
        {
            await using var redis = await ConnectionMultiplexer.ConnectAsync(parsed.GetValue(redisConnection)!);
            await using var app = Build(redis.GetDatabase(), parsed.GetValue(appId)!, parsed.GetValue(port), parsed.GetValue(grpcPort));
            await app.StartAsync(cancellation);
            await app.WaitForShutdownAsync(cancellation);
        });
        return command;
    }

    public ValueTask DisposeAsync() => process.DisposeAsync();

    private static WebApplication Build(IDatabase database, string appId, int port, int grpcPort)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(IPAddress.Loopback, port, listen => listen.Protocols = HttpProtocols.Http1);
            kestrel.Listen(IPAddress.Loopback, grpcPort, listen => listen.Protocols = HttpProtocols.Http2);
        });
        builder.Services.AddGrpc();
        builder.Services.AddSingleton(new BareStateService(database, appId));
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IServiceMethodProvider<BareStateService>, BareStateService.Binder>());
        var app = builder.Build();
        app.MapGet("/echo", () => "ok");
        app.MapGet("/state/{key}", async (string key) =>
        {
            var (data, _) = await BareStateService.ReadAsync(database, appId, key);
            return Results.Text(data ?? "", "application/json");
        });
        app.MapGrpcService<BareStateService>();
        return app;
    }

    /// <summary><c>dapr.proto.runtime.v1.Dapr/GetState</c> and nothing else: the Redis read with no store lookup, key
    /// prefixing, etag or error handling, bound as the sidecar binds it.</summary>
    internal sealed class BareStateService(IDatabase database, string appId)
    {
        public static async Task<(string? Data, string? Version)> ReadAsync(IDatabase database, string appId, string key)
        {
            var fields = (RedisResult[])(await database.ExecuteAsync("HMGET", $"{appId}||{key}", "data", "version"))!;
            return ((string?)fields[0], (string?)fields[1]);
        }

        private async Task<GetStateResponse> GetStateAsync(GetStateRequest request)
        {
            var (data, version) = await ReadAsync(database, appId, request.Key);
            return new GetStateResponse { Data = ByteString.CopyFromUtf8(data ?? ""), Etag = version ?? "" };
        }

        internal sealed class Binder : IServiceMethodProvider<BareStateService>
        {
            public void OnServiceMethodDiscovery(ServiceMethodProviderContext<BareStateService> context) =>
                context.AddUnaryMethod(
                    new Method<GetStateRequest, GetStateResponse>(MethodType.Unary, "dapr.proto.runtime.v1.Dapr", "GetState", Marshaller(GetStateRequest.Parser), Marshaller(GetStateResponse.Parser)),
                    [], (service, request, _) => service.GetStateAsync(request));

            private static Marshaller<T> Marshaller<T>(MessageParser<T> parser)
                where T : class, IMessage<T> =>
                Marshallers.Create(
                    (message, serialization) =>
                    {
                        serialization.SetPayloadLength(message.CalculateSize());
                        message.WriteTo(serialization.GetBufferWriter());
                        serialization.Complete();
                    },
                    deserialization => parser.ParseFrom(deserialization.PayloadAsReadOnlySequence()));
        }
    }
}
