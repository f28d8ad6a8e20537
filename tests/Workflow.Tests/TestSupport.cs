using System.Reflection;
using CloudScale.Workflow.Testing;

namespace CloudScale.Workflow.Tests;

internal static class TestSupport
{
    public static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    public static async Task<IReadOnlyList<HistoryEvent>> HistoryAsync(this WorkflowTestHost host, string instanceId) =>
        (await host.Store.LoadAsync(instanceId, Cancellation))?.History ?? [];

    /// <summary>How many results each task ID has in the history: exactly one each, whatever crashed or ran twice.</summary>
    public static Dictionary<int, int> ResultsPerTask(IEnumerable<HistoryEvent> history) =>
        history.OfType<TaskResultEvent>().GroupBy(result => result.TaskId).ToDictionary(group => group.Key, group => group.Count());
}

/// <summary>
/// An <see cref="IWorkflowStore"/> that forwards every call to another, except where the test intercepts it: to crash
/// at a chosen point (throw instead of forwarding) or to watch the calls go by.
/// </summary>
public class InterceptedStore : DispatchProxy
{
    private IWorkflowStore _inner = null!;
    private Func<MethodInfo, object?[], Func<object?>, object?> _intercept = null!;

    public static IWorkflowStore Wrap(IWorkflowStore inner, Func<MethodInfo, object?[], Func<object?>, object?> intercept)
    {
        var proxy = Create<IWorkflowStore, InterceptedStore>();
        var store = (InterceptedStore)(object)proxy;
        store._inner = inner;
        store._intercept = intercept;
        return proxy;
    }

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        ArgumentNullException.ThrowIfNull(targetMethod);
        var arguments = args ?? [];
        return _intercept(targetMethod, arguments, () => targetMethod.Invoke(_inner, arguments));
    }
}

/// <summary>What a test throws where the process would have died.</summary>
public sealed class SimulatedCrashException() : Exception("simulated crash");
