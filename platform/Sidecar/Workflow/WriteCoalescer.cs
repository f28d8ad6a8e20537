using System.Collections.Concurrent;

namespace CloudScale.Sidecar.Workflow;

/// <summary>A change waiting for the next write of its key; the write completes it, or fails it alone.</summary>
internal abstract class CoalescedChange
{
    public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}

/// <summary>
/// Changes to one key that arrive while a write of that key is under way here wait, and go together into its next write,
/// instead of racing each other for the key's etag: one caller writes, batch after batch, while the others wait for
/// their own change's outcome.
/// </summary>
internal sealed class WriteCoalescer<TChange>
    where TChange : CoalescedChange
{
    private readonly ConcurrentDictionary<string, Pending> _pending = new(StringComparer.Ordinal);

    /// <param name="write">Writes a batch; a change it fails stays failed, the others succeed when it returns.</param>
    public async Task RunAsync(string key, TChange change, Func<IReadOnlyList<TChange>, Task> write, CancellationToken cancellationToken)
    {
        var pending = _pending.GetOrAdd(key, _ => new Pending());
        bool writer;
        lock (pending)
        {
            pending.Changes.Add(change);
            writer = !pending.Writing;
            pending.Writing = true;
        }

        if (writer)
        {
            await WriteAllAsync(key, pending, write);
        }

        await change.Done.Task.WaitAsync(cancellationToken);
    }

    private async Task WriteAllAsync(string key, Pending pending, Func<IReadOnlyList<TChange>, Task> write)
    {
        while (true)
        {
            List<TChange> batch;
            lock (pending)
            {
                if (pending.Changes.Count == 0)
                {
                    pending.Writing = false;
                    _pending.TryRemove(KeyValuePair.Create(key, pending));
                    return;
                }

                batch = [.. pending.Changes];
                pending.Changes.Clear();
            }

            try
            {
                await write(batch);
                foreach (var change in batch)
                {
                    change.Done.TrySetResult();
                }
            }
            catch (Exception exception)
            {
                foreach (var change in batch)
                {
                    change.Done.TrySetException(exception);
                }
            }
        }
    }

    private sealed class Pending
    {
        public List<TChange> Changes { get; } = [];

        public bool Writing { get; set; }
    }
}
