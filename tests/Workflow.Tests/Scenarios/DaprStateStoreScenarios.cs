using CloudScale.Testing;
using CloudScale.Workflow.RealSidecar;
using Microsoft.Extensions.Logging.Abstractions;

namespace CloudScale.Workflow.Tests.Scenarios;

/// <summary>The scenarios over <see cref="DaprStateWorkflowStore"/>, through a real sidecar on a real Postgres database.</summary>
public sealed class DaprStateStoreScenarios(DaprStateStoreScenarios.Sidecar sidecar) : WorkflowScenarios, IClassFixture<DaprStateStoreScenarios.Sidecar>
{
    protected override IWorkflowStore Store => sidecar.Store;

    /// <summary>One sidecar with a <c>state.postgresql</c> component over a fresh database, for the whole class.</summary>
    public sealed class Sidecar(TestServers servers) : IAsyncLifetime
    {
        private DaprSidecar? _process;

        public DaprStateWorkflowStore Store { get; private set; } = null!;

        public async ValueTask InitializeAsync()
        {
            _process = await PostgresStateSidecar.StartAsync("workflow-scenarios", await servers.CreateDatabaseAsync());
            Store = new DaprStateWorkflowStore(_process.HttpEndpoint, apiToken: null, PostgresStateSidecar.StoreName, partitionCount: 16, TimeProvider.System, NullLoggerFactory.Instance);
        }

        public async ValueTask DisposeAsync()
        {
            Store.Dispose();
            if (_process is not null)
            {
                await _process.DisposeAsync();
            }
        }
    }
}
