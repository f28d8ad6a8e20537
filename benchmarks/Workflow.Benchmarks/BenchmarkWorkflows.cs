using Dapr.Workflow;

namespace CloudScale.Workflow.Benchmarks;

/// <summary>Dapr's "series" workflow: five activities, each fed the previous result.</summary>
internal sealed class ChainWorkflow : Workflow<int, int>
{
    public const int Length = 5;

    public override async Task<int> RunAsync(WorkflowContext context, int input)
    {
        var value = input;
        for (var step = 0; step < Length; step++)
        {
            value = await context.CallActivityAsync<int>(nameof(IncrementActivity), value);
        }

        return value;
    }
}

/// <summary>Fan-out/fan-in: ten activities at once, summed when all are back.</summary>
internal sealed class FanOutWorkflow : Workflow<int, int>
{
    public const int Width = 10;

    public override async Task<int> RunAsync(WorkflowContext context, int input)
    {
        var results = await Task.WhenAll(Enumerable.Range(input, Width).Select(value => context.CallActivityAsync<int>(nameof(IncrementActivity), value)));
        return results.Sum();
    }
}

internal sealed class IncrementActivity : WorkflowActivity<int, int>
{
    public override Task<int> RunAsync(WorkflowActivityContext context, int input) => Task.FromResult(input + 1);
}
