using System.IO.Hashing;
using System.Text;

namespace CloudScale.Sidecar.Workflow;

/// <summary>
/// Which sidecar of the app owns a workflow instance: rendezvous hashing of the instance id over the sidecars that have a
/// worker connected, as each writes itself into one shared membership record every scan. daprd spreads workflow actors
/// over the app's replicas with its placement tables; this does the same without a placement service, so the instances
/// of an app spread over every replica's workers, and a replica that joins (or comes back after a crash) takes its share
/// rather than only what is started after it. Moving as few instances as possible when a sidecar comes or goes is what
/// rendezvous hashing gives over a modulus.
/// </summary>
internal sealed class WorkflowMembers
{
    private volatile string[] _live = [];

    /// <summary>This sidecar's id in the record: new for every process, so that a restarted sidecar is a new member.</summary>
    public string Self { get; } = Guid.NewGuid().ToString("N");

    /// <summary>The ids of the sidecars whose membership had not expired at the last read, in order.</summary>
    public IReadOnlyList<string> Live => _live;

    /// <summary>
    /// Whether this sidecar owns the instance, as far as it knows: always while it knows of no other member (one replica,
    /// or before its first read), otherwise when its own weight for the instance is the highest of the live members'.
    /// </summary>
    public bool Owns(string instanceId)
    {
        var live = _live;
        if (live.Length == 0 || (live.Length == 1 && live[0] == Self))
        {
            return true;
        }

        var owner = live.MaxBy(member => Weight(member, instanceId));
        return owner == Self;
    }

    /// <summary>Joins (<paramref name="expiresAt"/> set) or leaves (null) the record; drops the members that expired.</summary>
    public void Apply(Dictionary<string, long> record, long now, long? expiresAt)
    {
        foreach (var expired in record.Where(member => member.Value <= now).Select(member => member.Key).ToList())
        {
            record.Remove(expired);
        }

        if (expiresAt is { } until)
        {
            record[Self] = until;
        }
        else
        {
            record.Remove(Self);
        }
    }

    /// <summary>Takes the members of the record as read or written, leaving out those that expired by <paramref name="now"/>.</summary>
    public void Observe(IReadOnlyDictionary<string, long> record, long now) =>
        _live = [.. record.Where(member => member.Value > now).Select(member => member.Key).Order(StringComparer.Ordinal)];

    private static ulong Weight(string member, string instanceId) => XxHash64.HashToUInt64(Encoding.UTF8.GetBytes($"{member}/{instanceId}"));
}
