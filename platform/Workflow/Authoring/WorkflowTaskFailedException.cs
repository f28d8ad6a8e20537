namespace Dapr.Workflow;

/// <summary>An activity or child workflow failed; <see cref="FailureDetails"/> says how.</summary>
public sealed class WorkflowTaskFailedException : Exception
{
    public WorkflowTaskFailedException(string message, WorkflowTaskFailureDetails failureDetails)
        : base(message)
    {
        FailureDetails = failureDetails;
    }

    public WorkflowTaskFailureDetails FailureDetails { get; }
}

/// <summary>The exception an activity, child workflow or workflow failed with, as recorded in its history.</summary>
public sealed record WorkflowTaskFailureDetails(string ErrorType, string ErrorMessage, string? StackTrace = null)
{
    /// <summary>
    /// True when the failure was an exception of type <typeparamref name="T"/> or a type derived from it; the recorded type
    /// is looked up by full name among the loaded assemblies, as it may have been thrown by another process.
    /// </summary>
    public bool IsCausedBy<T>()
        where T : Exception =>
        FindType(ErrorType) is { } type && typeof(T).IsAssignableFrom(type);

    internal static WorkflowTaskFailureDetails From(Exception exception) =>
        new(exception.GetType().FullName ?? exception.GetType().Name, exception.Message, exception.StackTrace);

    private static Type? FindType(string fullName) =>
        AppDomain.CurrentDomain.GetAssemblies()
            .Select(assembly => assembly.GetType(fullName, throwOnError: false))
            .FirstOrDefault(type => type is not null);
}
