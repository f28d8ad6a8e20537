// An AppHost run as its own process by the orchestrator tests, so that they can kill it.
using Aspire.Hosting;

var builder = DistributedApplication.CreateBuilder(args);
var cache = builder.AddRedis("cache");
builder.AddProject<Projects.EchoService>("echo").WithReference(cache).WaitFor(cache).WithHttpHealthCheck("/health").WithReplicas(2);
builder.Build().Run();
