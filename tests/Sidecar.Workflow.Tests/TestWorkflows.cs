using System.Collections.Concurrent;
using System.Diagnostics;
using Dapr.Workflow;

namespace CloudScale.Sidecar.Workflow.Tests;

/// <summary>
/// A chain of three activities, written as a class as an app writes its workflows and, like an app's, registered by the
/// SDK's source generator rather than in <see cref="TestWorkflows.Register"/>.
/// </summary>
internal sealed class ChainWorkflow : Workflow<int, int>
{
    public override async Task<int> RunAsync(WorkflowContext context, int input)
    {
        var value = input;
        for (var step = 0; step < 3; step++)
        {
            value = await context.CallActivityAsync<int>(nameof(AddOneActivity), value);
        }

        return value;
    }
}

internal sealed class AddOneActivity : WorkflowActivity<int, int>
{
    public override Task<int> RunAsync(WorkflowActivityContext context, int input) => Task.FromResult(input + 1);
}

/// <summary>The state a child of <see cref="TestWorkflows"/>'s "Collect" workflow carries into its next execution.</summary>
internal sealed record Collected(int Executions, int Sum);

/// <summary>
/// The workflows and activities the tests run, registered in every worker; what activities did is recorded per
/// instance id, with the name of the worker that ran them.
/// </summary>
internal static class TestWorkflows
{
    public static ConcurrentDictionary<string, int> Attempts { get; } = new(StringComparer.Ordinal);

    public static ConcurrentDictionary<string, ConcurrentBag<string>> WorkersByInstance { get; } = new(StringComparer.Ordinal);

    public static ConcurrentDictionary<string, string> ActivityTraceIds { get; } = new(StringComparer.Ordinal);

    /// <summary>Instances whose "Hang" activity is held until the test lets the next attempt through.</summary>
    public static ConcurrentDictionary<string, TaskCompletionSource> Gates { get; } = new(StringComparer.Ordinal);

    public static void Register(WorkflowRuntimeOptions options, string worker)
    {
        RegisterFlows(options, worker);
        RegisterEvents(options);
        RegisterFailures(options);
        RegisterProbes(options, worker);
    }

    private static void RegisterFlows(WorkflowRuntimeOptions options, string worker)
    {
        options.RegisterWorkflow<int, int>("FanOut", async (context, count) =>
        {
            var squares = await Task.WhenAll(Enumerable.Range(1, count).Select(n => context.CallActivityAsync<int>("Square", n)));
            return squares.Sum();
        });
        options.RegisterActivity<int, int>("Square", (context, n) =>
        {
            WorkersByInstance.GetOrAdd(context.InstanceId, _ => []).Add(worker);
            return Task.FromResult(n * n);
        });
        options.RegisterWorkflow<string, string>("Echo", (_, input) => Task.FromResult(input));
        options.RegisterWorkflow<int, string>("Timer", async (context, milliseconds) =>
        {
            await context.CreateTimer(TimeSpan.FromMilliseconds(milliseconds));
            return "fired";
        });
        options.RegisterWorkflow<int, int>("TimerThenAddOne", async (context, input) =>
        {
            await context.CreateTimer(TimeSpan.FromMilliseconds(100));
            return await context.CallActivityAsync<int>(nameof(AddOneActivity), input);
        });
        options.RegisterWorkflow<int, int>("Parent", (context, start) => context.CallChildWorkflowAsync<int>(nameof(ChainWorkflow), start));
        options.RegisterWorkflow<string, string>("ParentOfForever", (context, child) =>
            context.CallChildWorkflowAsync<string>("Forever", null, new ChildWorkflowTaskOptions { InstanceId = child }));
        options.RegisterWorkflow<string, string>("ParentReportingChildFailure", async (context, child) =>
        {
            try
            {
                return await context.CallChildWorkflowAsync<string>("Forever", null, new ChildWorkflowTaskOptions { InstanceId = child });
            }
            catch (WorkflowTaskFailedException failure)
            {
                return $"{failure.FailureDetails.ErrorType}: {failure.FailureDetails.ErrorMessage}";
            }
        });
    }

    private static void RegisterEvents(WorkflowRuntimeOptions options)
    {
        options.RegisterWorkflow<int, string>("Approval", async (context, timeoutMilliseconds) =>
        {
            context.SetCustomStatus("waiting");
            try
            {
                return await context.WaitForExternalEventAsync<string>("approval", TimeSpan.FromMilliseconds(timeoutMilliseconds));
            }
            catch (TaskCanceledException)
            {
                return "timed out";
            }
        });
        options.RegisterWorkflow<int, string>("WaitAfterTimer", async (context, milliseconds) =>
        {
            await context.CreateTimer(TimeSpan.FromMilliseconds(milliseconds));
            return await context.WaitForExternalEventAsync<string>("early");
        });
        options.RegisterWorkflow<string, string>("Forever", (context, _) => context.WaitForExternalEventAsync<string>("never"));
        options.RegisterWorkflow<Collected, int>("Collect", async (context, state) =>
        {
            var item = await context.WaitForExternalEventAsync<int>("item");
            var next = new Collected(state.Executions + 1, state.Sum + item);
            if (next.Executions < 3)
            {
                context.ContinueAsNew(next);
                return 0;
            }

            return next.Sum;
        });
    }

    private static void RegisterFailures(WorkflowRuntimeOptions options)
    {
        options.RegisterWorkflow<int, int>("Retry", (context, failures) =>
            context.CallActivityAsync<int>("Flaky", failures, new WorkflowTaskOptions(new WorkflowRetryPolicy(5, TimeSpan.FromMilliseconds(200)))));
        options.RegisterActivity<int, int>("Flaky", (context, failures) =>
        {
            var attempt = Attempts.AddOrUpdate(context.InstanceId, 1, (_, previous) => previous + 1);
            return attempt <= failures ? throw new InvalidOperationException($"attempt {attempt} fails") : Task.FromResult(attempt);
        });
        options.RegisterWorkflow<string, string>("Fails", (context, message) => context.CallActivityAsync<string>("Throw", message));
        options.RegisterActivity<string, string>("Throw", (_, message) => throw new InvalidOperationException(message));
    }

    private static void RegisterProbes(WorkflowRuntimeOptions options, string worker)
    {
        options.RegisterWorkflow<string, string>("Traced", (context, _) => context.CallActivityAsync<string>("TraceId", null));
        options.RegisterActivity<string?, string>("TraceId", (context, _) =>
        {
            var traceId = Activity.Current?.TraceId.ToHexString() ?? "";
            ActivityTraceIds[context.InstanceId] = traceId;
            return Task.FromResult(traceId);
        });
        options.RegisterWorkflow<string, string>("Hanging", (context, _) => context.CallActivityAsync<string>("Hang", null));
        options.RegisterActivity<string?, string>("Hang", async (context, _) =>
        {
            var attempt = Attempts.AddOrUpdate(context.InstanceId, 1, (_, previous) => previous + 1);
            WorkersByInstance.GetOrAdd(context.InstanceId, _ => []).Add(worker);
            if (attempt == 1)
            {
                await Gates.GetOrAdd(context.InstanceId, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
            }

            return $"{worker} finished attempt {attempt}";
        });
    }
}
