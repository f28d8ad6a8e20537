using CloudScale.WorkflowHost;
using Dapr.Workflow;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

// One replica of an app on the real Dapr.Workflow SDK: its worker takes ShippingWorkflow's work items from the sidecar
// at DAPR_GRPC_ENDPOINT, and its activities apply their effects in Postgres (ConnectionStrings__Effects), where the
// crash test reads them.
var builder = Host.CreateApplicationBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
// A small pool: two replicas and three sidecars share one test server's connections.
var effects = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(builder.Configuration.GetConnectionString("Effects")
    ?? throw new InvalidOperationException("ConnectionStrings__Effects is not set.")) { MaxPoolSize = 10 }.ConnectionString);
await Effects.CreateTablesAsync(effects);
builder.Services.AddSingleton(effects);
builder.Services.AddDaprWorkflow(options =>
{
    options.RegisterWorkflow<ShippingWorkflow>();
    options.RegisterActivity<ShippingStepActivity>();
});
await builder.Build().RunAsync();
