namespace CloudScale.Workflow;

/// <summary>
/// Requests made while earlier ones are being sent, taken together once those are done (group commit): under load one
/// round trip serves many callers, and a caller with nothing ahead of it never waits.
/// </summary>
internal sealed class RequestQueue<T>
{
    private readonly Lock _lock = new();
    private List<T> _waiting = [];
    private bool _sending;

    /// <summary>Queues the request; true if nothing is being sent, so the caller must start sending.</summary>
    public bool Enqueue(T request)
    {
        lock (_lock)
        {
            _waiting.Add(request);
            if (_sending)
            {
                return false;
            }

            _sending = true;
            return true;
        }
    }

    /// <summary>The next requests to send together, at most <paramref name="max"/>; null, ending the sending, when none wait.</summary>
    public List<T>? TakeBatch(int max)
    {
        lock (_lock)
        {
            if (_waiting.Count == 0)
            {
                _sending = false;
                return null;
            }

            var batch = _waiting.Take(max).ToList();
            _waiting = [.. _waiting.Skip(max)];
            return batch;
        }
    }
}
