namespace CloudScale.Sidecar.PubSub;

/// <summary>
/// A message as a pub/sub component carries it: the bytes published (a CloudEvent unless raw) and the publish metadata,
/// which is null when the publisher gave none (a bulk entry without metadata) and is then not stored at all.
/// </summary>
internal sealed record PubSubMessage(string Topic, byte[] Data, IReadOnlyDictionary<string, string>? Metadata);

/// <summary>Outcome of one delivery attempt as daprd classifies the app's reply.</summary>
internal enum DeliveryStatus
{
    Success,
    Retry,
    Drop,
}

internal interface IPubSub : IAsyncDisposable
{
    string Name { get; }

    string Type { get; }

    Task InitAsync(CancellationToken cancellationToken);

    Task PublishAsync(PubSubMessage message, CancellationToken cancellationToken);

    /// <summary>
    /// Delivers the topic's messages to <paramref name="handler"/> until <paramref name="stopping"/>. A handler that
    /// returns acknowledges the message; one that throws leaves it to the component's redelivery. What the component
    /// cannot report to a caller (a lost connection, a message left for redelivery) goes to <paramref name="logger"/>.
    /// </summary>
    Task SubscribeAsync(string topic, Func<PubSubMessage, CancellationToken, Task> handler, ILogger logger, CancellationToken stopping);
}

/// <summary>The loaded pub/sub components by name.</summary>
internal sealed class PubSubs(IReadOnlyList<IPubSub> pubsubs) : IAsyncDisposable
{
    private readonly Dictionary<string, IPubSub> _byName = pubsubs.ToDictionary(p => p.Name, StringComparer.Ordinal);

    public IEnumerable<IPubSub> All => _byName.Values;

    public bool Any => _byName.Count > 0;

    public IPubSub? Find(string name) => _byName.GetValueOrDefault(name);

    public async ValueTask DisposeAsync()
    {
        foreach (var pubsub in All)
        {
            await pubsub.DisposeAsync();
        }
    }
}
