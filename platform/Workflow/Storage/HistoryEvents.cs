using System.Diagnostics.CodeAnalysis;
using System.Text.Json.Serialization;
using Dapr.Workflow;

namespace CloudScale.Workflow;

/// <summary>
/// One entry of an instance's event-sourced history, as in Durable Task. The engine appends these and replays the
/// workflow against them; task results are matched to the calls that scheduled them by <c>TaskId</c>, the 1-based
/// sequence number of the durable calls (activities, timers, child workflows, sent events) of one run.
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "type")]
[JsonDerivedType(typeof(ExecutionStarted), "executionStarted")]
[JsonDerivedType(typeof(OrchestratorStarted), "orchestratorStarted")]
[JsonDerivedType(typeof(TaskScheduled), "taskScheduled")]
[JsonDerivedType(typeof(TaskCompleted), "taskCompleted")]
[JsonDerivedType(typeof(TaskFailed), "taskFailed")]
[JsonDerivedType(typeof(TimerCreated), "timerCreated")]
[JsonDerivedType(typeof(TimerFired), "timerFired")]
[JsonDerivedType(typeof(EventRaised), "eventRaised")]
[JsonDerivedType(typeof(EventSent), "eventSent")]
[JsonDerivedType(typeof(SubOrchestrationCreated), "subOrchestrationCreated")]
[JsonDerivedType(typeof(SubOrchestrationCompleted), "subOrchestrationCompleted")]
[JsonDerivedType(typeof(SubOrchestrationFailed), "subOrchestrationFailed")]
[JsonDerivedType(typeof(ExecutionCompleted), "executionCompleted")]
[JsonDerivedType(typeof(ContinueAsNew), "continueAsNew")]
[JsonDerivedType(typeof(ExecutionTerminated), "executionTerminated")]
[JsonDerivedType(typeof(ExecutionSuspended), "executionSuspended")]
[JsonDerivedType(typeof(ExecutionResumed), "executionResumed")]
public abstract record HistoryEvent(DateTimeOffset Timestamp);

/// <summary>The first event of a run: which workflow, with what input, in which trace.</summary>
public sealed record ExecutionStarted(DateTimeOffset Timestamp, string Name, string? Input, string? TraceParent) : HistoryEvent(Timestamp);

/// <summary>Opens every step; its timestamp is the workflow's <see cref="WorkflowContext.CurrentUtcDateTime"/> for the step.</summary>
public sealed record OrchestratorStarted(DateTimeOffset Timestamp) : HistoryEvent(Timestamp);

/// <summary>A durable call the workflow made; the subtypes say which kind.</summary>
public abstract record TaskScheduledEvent(DateTimeOffset Timestamp, int TaskId) : HistoryEvent(Timestamp);

/// <summary>The outcome of a durable call; the subtypes say which.</summary>
public abstract record TaskResultEvent(DateTimeOffset Timestamp, int TaskId) : HistoryEvent(Timestamp);

public sealed record TaskScheduled(DateTimeOffset Timestamp, int TaskId, string Name, string? Input) : TaskScheduledEvent(Timestamp, TaskId);

public sealed record TaskCompleted(DateTimeOffset Timestamp, int TaskId, string? Result) : TaskResultEvent(Timestamp, TaskId);

public sealed record TaskFailed(DateTimeOffset Timestamp, int TaskId, WorkflowTaskFailureDetails FailureDetails) : TaskResultEvent(Timestamp, TaskId);

public sealed record TimerCreated(DateTimeOffset Timestamp, int TaskId, DateTimeOffset FireAt) : TaskScheduledEvent(Timestamp, TaskId);

public sealed record TimerFired(DateTimeOffset Timestamp, int TaskId, DateTimeOffset FireAt) : TaskResultEvent(Timestamp, TaskId);

/// <summary>An external event delivered to the instance (buffered until the workflow waits for it).</summary>
public sealed record EventRaised(DateTimeOffset Timestamp, string Name, string? Input) : HistoryEvent(Timestamp);

/// <summary>An event this workflow raised on another instance with <see cref="WorkflowContext.SendEvent"/>.</summary>
public sealed record EventSent(DateTimeOffset Timestamp, int TaskId, string InstanceId, string Name, string? Input) : TaskScheduledEvent(Timestamp, TaskId);

public sealed record SubOrchestrationCreated(DateTimeOffset Timestamp, int TaskId, string Name, string InstanceId, string? Input) : TaskScheduledEvent(Timestamp, TaskId);

public sealed record SubOrchestrationCompleted(DateTimeOffset Timestamp, int TaskId, string? Result) : TaskResultEvent(Timestamp, TaskId);

public sealed record SubOrchestrationFailed(DateTimeOffset Timestamp, int TaskId, WorkflowTaskFailureDetails FailureDetails) : TaskResultEvent(Timestamp, TaskId);

/// <summary>The last event of a run that completed or failed.</summary>
public sealed record ExecutionCompleted(DateTimeOffset Timestamp, WorkflowRuntimeStatus Status, string? Result, WorkflowTaskFailureDetails? FailureDetails) : HistoryEvent(Timestamp);

/// <summary>The first event of a run that <see cref="WorkflowContext.ContinueAsNew"/> started; the previous run's history is gone.</summary>
[SuppressMessage("Naming", "CA1711:Identifiers should not have incorrect suffix", Justification = "Durable Task's name for the event.")]
public sealed record ContinueAsNew(DateTimeOffset Timestamp, string? Input, string PreviousExecutionId) : HistoryEvent(Timestamp);

public sealed record ExecutionTerminated(DateTimeOffset Timestamp, string? Output) : HistoryEvent(Timestamp);

public sealed record ExecutionSuspended(DateTimeOffset Timestamp, string? Reason) : HistoryEvent(Timestamp);

public sealed record ExecutionResumed(DateTimeOffset Timestamp, string? Reason) : HistoryEvent(Timestamp);
