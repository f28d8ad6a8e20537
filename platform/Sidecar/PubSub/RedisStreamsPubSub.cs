using StackExchange.Redis;
using CloudScale.Sidecar.Configuration;

namespace CloudScale.Sidecar.PubSub;

/// <summary>
/// <c>pubsub.redis</c> on Redis Streams with contrib's layout: the stream key is the topic, each entry has the fields
/// <c>data</c> (the CloudEvent, or the raw payload) and <c>metadata</c> (the publish metadata as JSON), and each app
/// reads through the consumer group named by <c>consumerID</c> (the app id unless set), which is also its consumer
/// name. See <see cref="RedisStreamSubscription"/> for delivery and redelivery.
/// </summary>
internal sealed class RedisStreamsPubSub : IPubSub
{
    private readonly ConfigurationOptions _options;
    private readonly long? _maxLenApprox;
    private ConnectionMultiplexer? _redis;

    public RedisStreamsPubSub(ComponentDefinition component, string appId)
    {
        Name = component.Name;
        _options = RedisConnectionMetadata.Read(component);
        var maxLenApprox = RedisConnectionMetadata.Integer(component, "maxLenApprox");
        _maxLenApprox = maxLenApprox > 0 ? maxLenApprox : null;
        Settings = new RedisStreamSettings(
            component.Get("consumerID") ?? appId,
            RedisConnectionMetadata.Duration(component, "processingTimeout") ?? TimeSpan.FromSeconds(60),
            // ⚠ contrib up to 1.18 reads redeliverInterval only as milliseconds and silently keeps 15s for "30s"
            // (dapr/docs#4048); components-contrib#4601 accepts durations, and so do we.
            RedisConnectionMetadata.Duration(component, "redeliverInterval") ?? TimeSpan.FromSeconds(15),
            Positive(component, "queueDepth") ?? 100,
            Positive(component, "concurrency") ?? 10);
    }

    public string Name { get; }

    public string Type => "pubsub.redis";

    public RedisStreamSettings Settings { get; }

    private IDatabase Database => (_redis ?? throw new InvalidOperationException($"pubsub {Name} is not initialised")).GetDatabase();

    public async Task InitAsync(CancellationToken cancellationToken) => _redis = await ConnectionMultiplexer.ConnectAsync(_options);

    public async Task PublishAsync(PubSubMessage message, CancellationToken cancellationToken)
    {
        NameValueEntry[] fields = message.Metadata is null
            ? [new("data", message.Data)]
            : [new("data", message.Data), new("metadata", GoJson.EncodingJson(message.Metadata))];
        try
        {
            await Database.StreamAddAsync(message.Topic, fields, maxLength: _maxLenApprox, useApproximateMaxLength: true);
        }
        catch (Exception exception) when (exception is RedisException or TimeoutException)
        {
            throw new InvalidOperationException($"redis streams: error from publish: {exception.Message}", exception);
        }
    }

    public async Task SubscribeAsync(string topic, Func<PubSubMessage, CancellationToken, Task> handler, ILogger logger, CancellationToken stopping)
    {
        // XREADGROUP … BLOCK holds its connection until entries arrive, so each subscription reads on a connection of its
        // own; the shared one stays free for publishing, acknowledging and reclaiming.
        var reader = await ConnectionMultiplexer.ConnectAsync(RedisConnectionMetadata.ForBlocking(_options, RedisStreamSubscription.ReadBlock));
        try
        {
            await new RedisStreamSubscription(Database, reader.GetDatabase(), topic, Settings, handler, logger).RunAsync(stopping);
        }
        finally
        {
            // Without waiting for a read still blocked in Redis.
            await reader.CloseAsync(allowCommandsToComplete: false);
            await reader.DisposeAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_redis is not null)
        {
            await _redis.DisposeAsync();
        }
    }

    private static int? Positive(ComponentDefinition component, string field) => RedisConnectionMetadata.Integer(component, field) switch
    {
        null => null,
        > 0 and var value => value,
        var value => throw component.Error(field, $"{value} is not a positive number"),
    };
}

/// <summary>contrib's stream settings; a zero processingTimeout or redeliverInterval turns redelivery off.</summary>
internal sealed record RedisStreamSettings(string ConsumerId, TimeSpan ProcessingTimeout, TimeSpan RedeliverInterval, int QueueDepth, int Concurrency)
{
    public bool Redelivers => ProcessingTimeout > TimeSpan.Zero && RedeliverInterval > TimeSpan.Zero;
}
