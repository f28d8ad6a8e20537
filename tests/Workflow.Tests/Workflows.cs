using Dapr.Workflow;
using Microsoft.Extensions.Logging;

namespace CloudScale.Workflow.Tests;

public sealed record Order(string Id, int Quantity, decimal Amount);

public sealed record OrderResult(string Reservation, string Payment, string Shipment);

/// <summary>Chaining: each activity's result feeds the next, as in the Dapr quickstart's order processor.</summary>
public sealed partial class OrderWorkflow : Workflow<Order, OrderResult>
{
    public override async Task<OrderResult> RunAsync(WorkflowContext context, Order input)
    {
        var logger = context.CreateReplaySafeLogger<OrderWorkflow>();
        Log.Received(logger, input.Id);
        var reservation = await context.CallActivityAsync<string>("Reserve", input);
        var payment = await context.CallActivityAsync<string>("Charge", input);
        var shipment = await context.CallActivityAsync<string>("Ship", reservation);
        Log.Shipped(logger, input.Id);
        return new OrderResult(reservation, payment, shipment);
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Received order {OrderId}")]
        public static partial void Received(ILogger logger, string orderId);

        [LoggerMessage(Level = LogLevel.Information, Message = "Shipped order {OrderId}")]
        public static partial void Shipped(ILogger logger, string orderId);
    }
}

/// <summary>Chaining with a pause for an external "Go" event between payment and shipping.</summary>
public sealed class GatedOrderWorkflow : Workflow<Order, OrderResult>
{
    public override async Task<OrderResult> RunAsync(WorkflowContext context, Order input)
    {
        var reservation = await context.CallActivityAsync<string>("Reserve", input);
        var payment = await context.CallActivityAsync<string>("Charge", input);
        await context.WaitForExternalEventAsync<bool>("Go");
        var shipment = await context.CallActivityAsync<string>("Ship", reservation);
        return new OrderResult(reservation, payment, shipment);
    }
}

/// <summary>Fan-out/fan-in: one activity per item, all scheduled in one step, summed when all are back.</summary>
public sealed class SumOfSquaresWorkflow : Workflow<int[], int>
{
    public override async Task<int> RunAsync(WorkflowContext context, int[] input)
    {
        var squares = await Task.WhenAll(input.Select(number => context.CallActivityAsync<int>(nameof(SquareActivity), number)));
        return squares.Sum();
    }
}

public sealed class SquareActivity : WorkflowActivity<int, int>
{
    public override async Task<int> RunAsync(WorkflowActivityContext context, int input)
    {
        // Real asynchrony, so that activities of one fan-out overlap when workers run them concurrently.
        await Task.Yield();
        return input * input;
    }
}

/// <summary>Compensation: a failed charge (after its retries) is refunded and reported instead of failing the workflow.</summary>
public sealed class ChargeWithRetriesWorkflow : Workflow<Order, string>
{
    public static readonly WorkflowRetryPolicy Retries = new(maxNumberOfAttempts: 4, firstRetryInterval: TimeSpan.FromSeconds(1), backoffCoefficient: 2);

    public override async Task<string> RunAsync(WorkflowContext context, Order input)
    {
        try
        {
            return await context.CallActivityAsync<string>("Charge", input, new WorkflowTaskOptions(Retries));
        }
        catch (WorkflowTaskFailedException failed) when (failed.FailureDetails.IsCausedBy<InvalidOperationException>())
        {
            await context.CallActivityAsync("Refund", input);
            return $"refunded after {failed.FailureDetails.ErrorType}: {failed.FailureDetails.ErrorMessage}";
        }
    }
}

/// <summary>Waits for an approval, with a timeout when the input gives one.</summary>
public sealed class ApprovalWorkflow : Workflow<TimeSpan?, string>
{
    public override async Task<string> RunAsync(WorkflowContext context, TimeSpan? input)
    {
        context.SetCustomStatus("waiting for approval");
        try
        {
            var approved = input is { } timeout
                ? await context.WaitForExternalEventAsync<bool>("Approval", timeout)
                : await context.WaitForExternalEventAsync<bool>("Approval");
            context.SetCustomStatus("decided");
            return approved ? "approved" : "rejected";
        }
        catch (TaskCanceledException)
        {
            return "timed out";
        }
    }
}

/// <summary>Durable timers by delay and by time, reporting how much workflow time passed.</summary>
public sealed class ReminderWorkflow : Workflow<object?, TimeSpan>
{
    public override async Task<TimeSpan> RunAsync(WorkflowContext context, object? input)
    {
        var start = context.CurrentUtcDateTime;
        await context.CreateTimer(TimeSpan.FromMinutes(10));
        await context.CreateTimer(start.AddMinutes(30), CancellationToken.None);
        return context.CurrentUtcDateTime - start;
    }
}

/// <summary>Starts one child per number (one with an ID of its own) and sums what they return.</summary>
public sealed class ParentWorkflow : Workflow<int[], int>
{
    public override async Task<int> RunAsync(WorkflowContext context, int[] input)
    {
        var named = context.CallChildWorkflowAsync<int>(nameof(DoublingWorkflow), input[0], new ChildWorkflowTaskOptions($"{context.InstanceId}-first"));
        var others = input.Skip(1).Select(number => context.CallChildWorkflowAsync<int>(nameof(DoublingWorkflow), number));
        var results = await Task.WhenAll(others.Prepend(named));
        return results.Sum();
    }
}

public sealed class DoublingWorkflow : Workflow<int, int>
{
    public override async Task<int> RunAsync(WorkflowContext context, int input)
    {
        if (input < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(input), input, "Only non-negative numbers double.");
        }

        return await context.CallActivityAsync<int>("Double", input);
    }
}

/// <summary>A parent waiting on a child that waits for an event: terminating the parent must reach the child.</summary>
public sealed class WaitingParentWorkflow : Workflow<object?, string>
{
    public override Task<string> RunAsync(WorkflowContext context, object? input) =>
        context.CallChildWorkflowAsync<string>(nameof(ApprovalWorkflow), null, new ChildWorkflowTaskOptions($"{context.InstanceId}-child"));
}

/// <summary>An eternal-style loop kept short by ContinueAsNew: adds one "Add" event per run until the total reaches the input's target.</summary>
public sealed class AccumulatorWorkflow : Workflow<AccumulatorState, int>
{
    public override async Task<int> RunAsync(WorkflowContext context, AccumulatorState input)
    {
        var total = input.Total + await context.WaitForExternalEventAsync<int>("Add");
        if (total >= input.Target)
        {
            return total;
        }

        context.ContinueAsNew(input with { Total = total });
        return 0;
    }
}

public sealed record AccumulatorState(int Target, int Total);

/// <summary>Raises an event on another instance: workflows talk to each other without an activity.</summary>
public sealed class NotifierWorkflow : Workflow<string, bool>
{
    public override Task<bool> RunAsync(WorkflowContext context, string input)
    {
        context.SendEvent(input, "Approval", true);
        return Task.FromResult(true);
    }
}

/// <summary>Breaks the rules: awaits Task.Delay, which a replay cannot reproduce.</summary>
public sealed class SleepyWorkflow : Workflow<object?, string>
{
    public override async Task<string> RunAsync(WorkflowContext context, object? input)
    {
        await Task.Delay(TimeSpan.FromMinutes(1));
        return "woke up";
    }
}

/// <summary>Values that must not change on replay: a GUID, the step's time, and whether the code replays.</summary>
public sealed class ReplayProbeWorkflow : Workflow<object?, ReplayProbe>
{
    public override async Task<ReplayProbe> RunAsync(WorkflowContext context, object? input)
    {
        var guid = context.NewGuid();
        var startedAt = context.CurrentUtcDateTime;
        context.SetCustomStatus(new ReplayProbe(guid, Guid.Empty, startedAt, context.IsReplaying));
        await context.CreateTimer(TimeSpan.FromMinutes(1));
        return new ReplayProbe(guid, context.NewGuid(), startedAt, context.IsReplaying);
    }
}

public sealed record ReplayProbe(Guid First, Guid Second, DateTime StartedAt, bool ReplayingAtEnd);
