namespace CloudScale.Workflow;

/// <summary>
/// Requests made while earlier ones are being sent, taken together once a sender is free (group commit): under load one
/// round trip serves many callers, and a caller with nothing ahead of it never waits. Up to <paramref name="senders"/>
/// senders work at once, so that one slow round trip (a merged transaction that failed and is re-sent piece by piece)
/// does not hold up every other caller.
/// </summary>
internal sealed class RequestQueue<T>(int senders = 1)
{
    private readonly Lock _lock = new();
    private List<T> _waiting = [];
    private int _sending;

    /// <summary>Queues the request; true if a sender is free, so the caller must start one.</summary>
    public bool Enqueue(T request)
    {
        lock (_lock)
        {
            _waiting.Add(request);
            if (_sending >= senders)
            {
                return false;
            }

            _sending++;
            return true;
        }
    }

    /// <summary>The next requests to send together, at most <paramref name="max"/>; null, ending this sender, when none wait.</summary>
    public List<T>? TakeBatch(int max)
    {
        lock (_lock)
        {
            if (_waiting.Count == 0)
            {
                _sending--;
                return null;
            }

            var batch = _waiting.Take(max).ToList();
            _waiting = [.. _waiting.Skip(max)];
            return batch;
        }
    }
}
