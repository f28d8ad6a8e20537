using System.Collections.Concurrent;

namespace CloudScale.Sidecar.Workflow;

/// <summary>
/// The value this sidecar last wrote to each workflow key and the etag the store gave it, so that the next step on the
/// key starts from it instead of reading it back: a running workflow's steps follow each other through this sidecar, and
/// the read was half of every step's round trips. It is safe because every write is etag-guarded: a value another
/// sidecar has replaced since fails its write with a mismatch, and the step is redone on a read. Bounded; a key that
/// does not fit is simply read.
/// </summary>
internal sealed class LastWrites
{
    private const int Capacity = 10_000;

    private readonly ConcurrentDictionary<string, Written> _written = new(StringComparer.Ordinal);

    public Written? Find(string key) => _written.GetValueOrDefault(key);

    /// <param name="keep">False when no further step on the key is expected (an ended instance), which frees its entry.</param>
    public void Remember(string key, byte[] data, string etag, bool keep)
    {
        if (!keep)
        {
            _written.TryRemove(key, out _);
        }
        else if (_written.Count < Capacity || _written.ContainsKey(key))
        {
            _written[key] = new Written(data, etag);
        }
    }

    /// <summary>Forgets the key's entry; when <paramref name="used"/> is given, only if it is still that entry (a newer write keeps its own).</summary>
    public void Forget(string key, Written? used = null)
    {
        if (used is null)
        {
            _written.TryRemove(key, out _);
        }
        else
        {
            _written.TryRemove(KeyValuePair.Create(key, used));
        }
    }

    internal sealed record Written(byte[] Data, string ETag);
}
