namespace CloudScale.Workflow;

/// <summary>
/// The error type recorded when a replay makes different durable calls than the instance's history has: the code
/// changed under a running instance. Check for it with <c>FailureDetails.IsCausedBy&lt;NonDeterministicWorkflowException&gt;()</c>.
/// </summary>
public sealed class NonDeterministicWorkflowException(string message) : Exception(message);
