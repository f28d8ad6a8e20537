using Dapr.Workflow;
using Npgsql;

namespace CloudScale.WorkflowHost;

/// <summary>A step of <see cref="ShippingWorkflow"/>: its name and the number it works on.</summary>
public sealed record ShippingStep(string Step, int Value);

/// <summary>A chain of two activities, then a fan-out of three, summed: enough steps for a kill to land anywhere.</summary>
public sealed class ShippingWorkflow : Workflow<int, int>
{
    public override async Task<int> RunAsync(WorkflowContext context, int input)
    {
        var reserved = await context.CallActivityAsync<int>(nameof(ShippingStepActivity), new ShippingStep("reserve", input));
        var charged = await context.CallActivityAsync<int>(nameof(ShippingStepActivity), new ShippingStep("charge", reserved));
        var parcels = await Task.WhenAll(Enumerable.Range(1, 3).Select(parcel =>
            context.CallActivityAsync<int>(nameof(ShippingStepActivity), new ShippingStep($"ship-{parcel}", charged + parcel))));
        return parcels.Sum();
    }
}

/// <summary>
/// Adds one to its input and applies its effect: the value is added to the ledger's total, once per (instance, step)
/// however often the backend delivers the step (at least once), because the effect's row and the total change in one
/// transaction that does nothing when the row exists. Every run is counted too, so repeats after a crash show.
/// </summary>
public sealed class ShippingStepActivity(NpgsqlDataSource effects) : WorkflowActivity<ShippingStep, int>
{
    public override async Task<int> RunAsync(WorkflowActivityContext context, ShippingStep input)
    {
        await using var command = effects.CreateCommand("""
            WITH run AS (INSERT INTO step_runs (instance_id, step, process_id) VALUES ($1, $2, $4)),
                 applied AS (INSERT INTO step_effects (instance_id, step, value) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING value)
            UPDATE ledger SET total = total + applied.value FROM applied
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = context.InstanceId });
        command.Parameters.Add(new NpgsqlParameter { Value = input.Step });
        command.Parameters.Add(new NpgsqlParameter { Value = input.Value });
        command.Parameters.Add(new NpgsqlParameter { Value = Environment.ProcessId });
        await command.ExecuteNonQueryAsync();
        return input.Value + 1;
    }
}
