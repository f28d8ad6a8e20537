namespace CloudScale.Sidecar.Workflow;

/// <summary>
/// The server-side waits on instances (WaitForInstanceStart/Completion). A waiter stays registered until its condition
/// holds, and each write of the instance made here is shown to it as written: no change slips by between a wake-up and
/// the next look, and a wait does not read the store again after every step. Other sidecars' writes are seen by polling.
/// </summary>
internal sealed class InstanceWatchers
{
    private readonly Dictionary<string, List<InstanceWatcher>> _watchers = new(StringComparer.Ordinal);

    public InstanceWatcher Watch(string instanceId, Func<InstanceRecord, bool> done)
    {
        var watcher = new InstanceWatcher(this, instanceId, done);
        lock (_watchers)
        {
            if (!_watchers.TryGetValue(instanceId, out var watchers))
            {
                _watchers[instanceId] = watchers = [];
            }

            watchers.Add(watcher);
        }

        return watcher;
    }

    /// <param name="record">The instance as just written here; null when it is gone or not at hand, which makes its waiters read it.</param>
    public void Changed(string instanceId, InstanceRecord? record)
    {
        InstanceWatcher[] watchers;
        lock (_watchers)
        {
            if (!_watchers.TryGetValue(instanceId, out var registered))
            {
                return;
            }

            watchers = [.. registered];
        }

        foreach (var watcher in watchers)
        {
            watcher.Show(record);
        }
    }

    internal void Remove(InstanceWatcher watcher)
    {
        lock (_watchers)
        {
            if (_watchers.TryGetValue(watcher.InstanceId, out var watchers) && watchers.Remove(watcher) && watchers.Count == 0)
            {
                _watchers.Remove(watcher.InstanceId);
            }
        }
    }
}

/// <summary>One wait on an instance, from before its first read until it ends.</summary>
internal sealed class InstanceWatcher(InstanceWatchers watchers, string instanceId, Func<InstanceRecord, bool> done) : IDisposable
{
    private readonly Lock _lock = new();
    private TaskCompletionSource _signal = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile InstanceRecord? _satisfied;

    public string InstanceId => instanceId;

    /// <summary>The first record shown to this watcher that met its condition; it stays set.</summary>
    public InstanceRecord? Satisfied => _satisfied;

    /// <summary>A task that completes at the next change shown after this call.</summary>
    public Task NextChange()
    {
        lock (_lock)
        {
            if (_signal.Task.IsCompleted)
            {
                _signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }

            return _signal.Task;
        }
    }

    public void Show(InstanceRecord? record)
    {
        if (record is not null)
        {
            if (!done(record))
            {
                return;
            }

            _satisfied ??= record;
        }

        lock (_lock)
        {
            _signal.TrySetResult();
        }
    }

    public void Dispose() => watchers.Remove(this);
}
