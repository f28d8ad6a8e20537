using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using CloudScale.Workflow.Testing;
using Dapr.Workflow;
using static CloudScale.Workflow.Tests.TestSupport;

namespace CloudScale.Workflow.Tests;

public sealed class TelemetryTests
{
    [Fact]
    public async Task Steps_and_activities_are_spans_of_the_starting_trace_and_instances_and_activities_are_counted()
    {
        var spans = new ConcurrentQueue<Activity>();
        using var spanListener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == WorkflowTelemetry.Name,
            Sample = (ref _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Enqueue,
        };
        ActivitySource.AddActivityListener(spanListener);
        var measurements = new ConcurrentQueue<(string Instrument, double Value, Dictionary<string, object?> Tags)>();
        using var meterListener = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == WorkflowTelemetry.Name)
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        meterListener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => measurements.Enqueue((instrument.Name, value, ToDictionary(tags))));
        meterListener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => measurements.Enqueue((instrument.Name, value, ToDictionary(tags))));
        meterListener.Start();

        await using var host = new WorkflowTestHost(options =>
        {
            options.RegisterWorkflow<int, int>("TelemetryChain", async (context, input) =>
                await context.CallActivityAsync<int>("TelemetryStep", await context.CallActivityAsync<int>("TelemetryStep", input)));
            options.RegisterActivity<int, int>("TelemetryStep", (_, input) => Task.FromResult(input + 1));
            options.RegisterWorkflow<int, int>("TelemetryFailure", (_, _) => throw new InvalidOperationException("no"));
        });
        string instanceId;
        using (var request = new Activity("incoming request").Start())
        {
            instanceId = await host.Client.ScheduleNewWorkflowAsync("TelemetryChain", input: 1, cancellation: Cancellation);
            await host.Client.ScheduleNewWorkflowAsync("TelemetryFailure", cancellation: Cancellation);
            await host.RunUntilIdleAsync(Cancellation);

            var ours = spans.Where(span => Equals(span.GetTagItem("workflow.instance_id"), instanceId)).ToList();
            var steps = ours.Where(span => span.DisplayName == "workflow TelemetryChain").ToList();
            var activities = ours.Where(span => span.DisplayName == "activity TelemetryStep").ToList();
            Assert.Equal(3, steps.Count);
            Assert.Equal(2, activities.Count);
            Assert.All(ours, span => Assert.Equal(request.TraceId, span.TraceId));
            Assert.All(activities, activity => Assert.Contains(activity.ParentSpanId, steps.Select(step => step.SpanId)));
        }

        Assert.Equal(3, (await host.Client.GetWorkflowStateAsync(instanceId, cancellation: Cancellation)).ReadOutputAs<int>());
        Assert.Equal(1, Sum("workflow.instances.started", "workflow.name", "TelemetryChain"));
        Assert.Equal(1, Sum("workflow.instances.completed", "workflow.name", "TelemetryChain"));
        Assert.Equal(0, Sum("workflow.instances.failed", "workflow.name", "TelemetryChain"));
        Assert.Equal(1, Sum("workflow.instances.failed", "workflow.name", "TelemetryFailure"));
        Assert.Equal(2, measurements.Count(measurement => measurement.Instrument == "workflow.activity.duration"
            && Equals(measurement.Tags["workflow.activity.name"], "TelemetryStep")
            && Equals(measurement.Tags["workflow.activity.outcome"], "completed")));

        double Sum(string instrument, string tag, string value) =>
            measurements.Where(measurement => measurement.Instrument == instrument && Equals(measurement.Tags.GetValueOrDefault(tag), value)).Sum(measurement => measurement.Value);
    }

    private static Dictionary<string, object?> ToDictionary(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var dictionary = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (key, value) in tags)
        {
            dictionary[key] = value;
        }

        return dictionary;
    }
}
