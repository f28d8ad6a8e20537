using Dapr.Workflow;
using Npgsql;

namespace CloudScale.WorkflowHost;

/// <summary>A step of <see cref="ShippingWorkflow"/>: its name and the number it works on.</summary>
public sealed record ActivityInput(string Step, int Value);

/// <summary>A chain of two activities, then a fan-out of three, summed: enough steps for a kill to land anywhere.</summary>
public sealed class ShippingWorkflow : Workflow<int, int>
{
    public override async Task<int> RunAsync(WorkflowContext context, int input)
    {
        var reserved = await context.CallActivityAsync<int>(nameof(RecordedActivity), new ActivityInput("reserve", input));
        var charged = await context.CallActivityAsync<int>(nameof(RecordedActivity), new ActivityInput("charge", reserved));
        var parcels = await Task.WhenAll(Enumerable.Range(1, 3).Select(parcel =>
            context.CallActivityAsync<int>(nameof(RecordedActivity), new ActivityInput($"ship-{parcel}", charged + parcel))));
        return parcels.Sum();
    }
}

/// <summary>
/// Adds one to its input, after recording the run in <c>activity_runs</c>: a row per run, so a run repeated after a
/// crash shows as a second attempt of the same (instance, task).
/// </summary>
public sealed class RecordedActivity(NpgsqlDataSource observations) : WorkflowActivity<ActivityInput, int>
{
    public override async Task<int> RunAsync(WorkflowActivityContext context, ActivityInput input)
    {
        await using var command = observations.CreateCommand(
            "INSERT INTO activity_runs (instance_id, activity, task_execution_key, process_id) VALUES ($1, $2, $3, $4)");
        command.Parameters.Add(new NpgsqlParameter { Value = context.InstanceId });
        command.Parameters.Add(new NpgsqlParameter { Value = input.Step });
        command.Parameters.Add(new NpgsqlParameter { Value = context.TaskExecutionKey });
        command.Parameters.Add(new NpgsqlParameter { Value = Environment.ProcessId });
        await command.ExecuteNonQueryAsync();
        return input.Value + 1;
    }
}
