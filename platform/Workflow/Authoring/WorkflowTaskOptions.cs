namespace Dapr.Workflow;

/// <summary>Options for one activity call.</summary>
public record WorkflowTaskOptions(WorkflowRetryPolicy? RetryPolicy = null);

/// <summary>Options for one child-workflow call; <see cref="InstanceId"/> defaults to a replay-safe new GUID.</summary>
public record ChildWorkflowTaskOptions(string? InstanceId = null, WorkflowRetryPolicy? RetryPolicy = null) : WorkflowTaskOptions(RetryPolicy);

/// <summary>
/// Durable retries of a failed activity or child workflow: attempt n+1 waits on a durable timer for
/// <c>firstRetryInterval × backoffCoefficient^(n-1)</c>, capped at <c>maxRetryInterval</c>, and no attempt starts once
/// <c>retryTimeout</c> has passed since the first.
/// </summary>
public sealed class WorkflowRetryPolicy
{
    public WorkflowRetryPolicy(
        int maxNumberOfAttempts,
        TimeSpan firstRetryInterval,
        double backoffCoefficient = 1.0,
        TimeSpan? maxRetryInterval = null,
        TimeSpan? retryTimeout = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxNumberOfAttempts);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(firstRetryInterval, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(backoffCoefficient, 1.0);
        MaxNumberOfAttempts = maxNumberOfAttempts;
        FirstRetryInterval = firstRetryInterval;
        BackoffCoefficient = backoffCoefficient;
        MaxRetryInterval = maxRetryInterval ?? TimeSpan.FromHours(1);
        RetryTimeout = retryTimeout ?? Timeout.InfiniteTimeSpan;
    }

    public int MaxNumberOfAttempts { get; }

    public TimeSpan FirstRetryInterval { get; }

    public double BackoffCoefficient { get; }

    public TimeSpan MaxRetryInterval { get; }

    /// <summary><see cref="Timeout.InfiniteTimeSpan"/> when retries are bounded by the attempt count only.</summary>
    public TimeSpan RetryTimeout { get; }

    /// <summary>The wait before the attempt that follows <paramref name="failedAttempts"/> failures.</summary>
    internal TimeSpan DelayAfter(int failedAttempts)
    {
        var delay = FirstRetryInterval.TotalMilliseconds * Math.Pow(BackoffCoefficient, failedAttempts - 1);
        return TimeSpan.FromMilliseconds(Math.Min(delay, MaxRetryInterval.TotalMilliseconds));
    }
}
