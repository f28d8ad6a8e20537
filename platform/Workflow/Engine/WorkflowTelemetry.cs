using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace CloudScale.Workflow;

/// <summary>
/// The <c>CloudScale.Workflow</c> activity source (a span per workflow step and per activity run) and meter (instances
/// started, completed and failed; activity latency). ServiceDefaults subscribes to every <c>CloudScale.*</c> source and meter.
/// </summary>
public static class WorkflowTelemetry
{
    public const string Name = "CloudScale.Workflow";

    internal const string InstanceIdTag = "workflow.instance_id";
    internal const string WorkflowNameTag = "workflow.name";
    internal const string ActivityNameTag = "workflow.activity.name";
    internal const string TaskIdTag = "workflow.task_id";
    internal const string StatusTag = "workflow.runtime_status";
    internal const string WorkerTag = "workflow.worker_id";
    internal const string OutcomeTag = "workflow.activity.outcome";

    internal static readonly ActivitySource Source = new(Name);

    private static readonly Meter Meter = new(Name);

    internal static readonly Counter<long> Started = Meter.CreateCounter<long>(
        "workflow.instances.started", "{instance}", "Workflow instances created, children included, by workflow name.");

    internal static readonly Counter<long> Completed = Meter.CreateCounter<long>(
        "workflow.instances.completed", "{instance}", "Workflow instances that returned an output, by workflow name.");

    internal static readonly Counter<long> Failed = Meter.CreateCounter<long>(
        "workflow.instances.failed", "{instance}", "Workflow instances that failed, by workflow name.");

    internal static readonly Histogram<double> ActivityDuration = Meter.CreateHistogram(
        "workflow.activity.duration", "s", "Time an activity's code ran, by activity name and outcome.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60] });
}
