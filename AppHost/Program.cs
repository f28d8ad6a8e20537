using System.Collections.Immutable;
using Aspire.Hosting.Dapr;
using CloudScale.AppHost;
using Microsoft.Extensions.Configuration;

var builder = DistributedApplication.CreateBuilder(args).AddConsoleStatusReport().AddPlainConsoleLogs();

// Redis and Postgres run as local processes here (no container engine); the manifest gets Aspire's containers, with
// volumes named here so that azd's volume outputs do not depend on where the AppHost was checked out.
var cache = builder.AddRedis("cache").WithDataVolume("cache-data").RunAsLocalProcess();
var postgres = builder.AddPostgres("postgres").WithDataVolume("postgres-data").RunAsLocalProcess();
var bookingDb = postgres.AddDatabase("bookingdb");
var orderDb = postgres.AddDatabase("orderdb");
var notificationDb = postgres.AddDatabase("notificationdb");
var workflowDb = postgres.AddDatabase("workflowdb");

// Every sidecar loads ../components (state and pub/sub on Redis, the workflow store on Postgres for order only);
// the secrets the components reference come from the sidecar's environment.
var dapr = new DaprSidecarOptions { ResourcesPaths = ImmutableHashSet.Create(StringComparer.Ordinal, "../components") };
void ComponentSecrets(IResourceBuilder<DaprSidecarResource> sidecar) => sidecar
    .WithEnvironment("REDIS_HOST", ReferenceExpression.Create($"{cache.Property("Host")}:{cache.Property("Port")}"))
    .WithEnvironment("REDIS_PASSWORD", cache.Property("Password"))
    .WithEnvironment("WORKFLOW_STORE_CONNECTION_STRING", workflowDb)
    .WaitFor(cache).WaitFor(workflowDb);

builder.AddProject<Projects.Booking>("booking")
    .WithReference(bookingDb).WithReference(cache)
    .WaitFor(bookingDb).WaitFor(cache)
    .WithDaprSidecar(dapr, ComponentSecrets)
    .WithHttpHealthCheck("/health");

// Order is the one public API (orders, and the payment provider's callback). Booking and Notification stay inside: on
// Container Apps the sidecar presents no app API token, so their sidecar-only routes would admit anyone who can reach them.
var order = builder.AddProject<Projects.Order>("order")
    .WithReference(orderDb).WithReference(cache)
    .WaitFor(orderDb).WaitFor(cache)
    .WithPaymentProvider()
    .WithReplicas(builder.Configuration.GetValue("AppHost:OrderReplicas", 1))
    .WithDaprSidecar(dapr, ComponentSecrets)
    .WithHttpHealthCheck("/health")
    .WithExternalHttpEndpoints();
// The payment provider calls Order back at its own (load-balanced) endpoint when it has decided; in Azure over HTTPS,
// since Container Apps' ingress redirects plain HTTP and a redirected POST loses its body.
order.WithEnvironment("BookingSaga__PublicBaseUrl", order.GetEndpoint(builder.ExecutionContext.IsPublishMode ? "https" : "http"));

builder.AddProject<Projects.Notification>("notification")
    .WithReference(notificationDb).WithReference(cache)
    .WaitFor(notificationDb).WaitFor(cache)
    .WithDaprSidecar(dapr, ComponentSecrets)
    .WithHttpHealthCheck("/health");

builder.Build().Run();
