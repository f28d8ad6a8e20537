namespace CloudScale.Workflow.Tests.Scenarios;

public sealed class InMemoryStoreScenarios : WorkflowScenarios
{
    protected override IWorkflowStore Store { get; } = new InMemoryWorkflowStore();
}
