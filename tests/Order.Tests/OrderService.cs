using CloudScale.Order.Extensions;
using CloudScale.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace CloudScale.Order.Tests;

/// <summary>The Order service composed exactly as its Program.cs does.</summary>
internal static class OrderService
{
    /// <summary>
    /// Order on <paramref name="database"/>, calling the sidecar of <paramref name="sidecar"/> at its HTTP and gRPC ports
    /// (nothing needs to listen there unless sagas are started). The relay polls every 100 ms, so that a test sees an outbox row move within a
    /// second instead of after production's backoff. Sagas are scheduled but not run unless <paramref name="runsSagas"/>;
    /// <paramref name="settings"/> are applied over these; <paramref name="logs"/>, when given, receives everything the service logs.
    /// </summary>
    public static Task<InProcessApp> StartOrderAsync(
        string database, string redis, SidecarSettings sidecar, IReadOnlyDictionary<string, string?>? settings = null, bool runsSagas = false, ILoggerProvider? logs = null,
        string environment = "Production") =>
        InProcessApp.StartAsync(
            new Dictionary<string, string?>(StringComparer.Ordinal)
            {
                ["ConnectionStrings:orderdb"] = database,
                ["ConnectionStrings:cache"] = redis,
                ["DAPR_HTTP_ENDPOINT"] = $"http://127.0.0.1:{sidecar.HttpPort}",
                ["DAPR_GRPC_ENDPOINT"] = $"http://127.0.0.1:{sidecar.GrpcPort}",
                // As the AppHost gives every app: without one the service admits any caller on its sidecar-only routes.
                ["APP_API_TOKEN"] = "test-app-token",
                ["Outbox:PollInterval"] = "00:00:00.100",
                ["Outbox:MaxRetryDelay"] = "00:00:00.400",
                // Test classes share one Redis and their customers' placement buckets; OrderPlacementLimitTests sets its own.
                ["OrderPlacementLimit:TokenLimit"] = "1000000",
            },
            builder =>
            {
                // Most of these tests are about Order's own API and outbox, so the saga is scheduled but not run; it runs
                // against real services in the end-to-end tests and alone in BookingSagaWorkflowTests.
                builder.AddServiceDefaults();
                builder.AddApplicationServices();
                if (!runsSagas)
                {
                    foreach (var worker in builder.Services.Where(service => service.ImplementationType?.Name == "WorkflowWorker").ToList())
                    {
                        builder.Services.Remove(worker);
                    }
                }

                if (logs is not null)
                {
                    builder.Logging.AddProvider(logs);
                }
            },
            app =>
            {
                app.MapDefaultEndpoints();
                app.MapOrderApi();
            },
            environment,
            settings);

    /// <summary>A sidecar on free loopback ports that nobody starts: one that is down.</summary>
    public static SidecarSettings NoSidecar() => new("order", ResourcesPath: "");

    /// <summary>
    /// Order's sidecar with the store its sagas live in (a Redis state store marked <c>actorStateStore</c>), under an app
    /// id of its own so that test classes sharing one Redis never see each other's workflows.
    /// </summary>
    public static Task<DaprSidecar> StartSidecarAsync(string redis) =>
        DaprSidecar.StartAsync(new SidecarSettings(
            $"order-{Guid.NewGuid().ToString("N")[..8]}",
            SidecarResources.Folder(WorkflowStore(redis))));

    /// <summary>The component file of the workflow store: a Redis state store marked <c>actorStateStore</c>.</summary>
    public static (string File, string Yaml) WorkflowStore(string redis) =>
        ("workflowstore.yaml", SidecarResources.RedisStateStore("workflowstore", redis, ("actorStateStore", "true")));
}
