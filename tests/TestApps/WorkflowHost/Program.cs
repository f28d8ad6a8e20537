using CloudScale.Workflow;
using CloudScale.WorkflowHost;
using Dapr.Workflow;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

// One replica of an application that runs ShippingWorkflow through its sidecar (DAPR_HTTP_PORT). It records what the
// crash tests observe in Postgres (ConnectionStrings__Observations): every activity run, and every interval in which
// it held an instance's lease. Leases are short, so a replica killed mid-step is taken over within seconds.
var builder = Host.CreateApplicationBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
// A small pool: two replicas and two sidecars share one test server's 100 connections, and an activity that cannot
// get one fails its workflow.
var observations = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(builder.Configuration.GetConnectionString("Observations")
    ?? throw new InvalidOperationException("ConnectionStrings__Observations is not set.")) { MaxPoolSize = 10 }.ConnectionString);
await Observations.CreateTablesAsync(observations);
builder.Services.AddSingleton(observations);
builder.Services.AddSingleton<IWorkflowStore>(provider => new LeaseRecordingStore(
    DaprStateWorkflowStore.FromConfiguration(builder.Configuration, "statestore", partitionCount: 16, TimeProvider.System, provider.GetRequiredService<ILoggerFactory>()),
    observations));
builder.Services.AddDaprWorkflow(options =>
{
    options.RegisterWorkflow<ShippingWorkflow>();
    options.RegisterActivity<RecordedActivity>();
    options.PollingInterval = TimeSpan.FromMilliseconds(100);
    options.WorkflowLeaseDuration = TimeSpan.FromSeconds(2);
    options.ActivityLeaseDuration = TimeSpan.FromSeconds(2);
});
await builder.Build().RunAsync();
