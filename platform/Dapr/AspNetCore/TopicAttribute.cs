namespace Dapr;

/// <summary>What an endpoint subscribes to: read from endpoint metadata by <c>MapSubscribeHandler()</c>.</summary>
public interface ITopicMetadata
{
    string PubsubName { get; }

    string Name { get; }

    /// <summary>A CEL expression over the CloudEvent (<c>event.type == "order.created"</c>); <c>null</c> makes this endpoint the topic's default route.</summary>
    string? Match { get; }

    /// <summary>The order of this endpoint's rule among the topic's rules, lowest first.</summary>
    int Priority { get; }

    /// <summary>Where the sidecar sends events this endpoint dropped or kept failing on.</summary>
    string? DeadLetterTopic { get; }

    /// <summary>Whether events arrive as published, without a CloudEvent envelope (subscription metadata <c>rawPayload=true</c>).</summary>
    bool EnableRawPayload { get; }
}

/// <summary>Subscribes the endpoint (controller action or minimal-API handler) to a topic, as the Dapr SDK's <c>[Topic]</c>.</summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Method, AllowMultiple = true)]
public sealed class TopicAttribute : Attribute, ITopicMetadata
{
    public TopicAttribute(string pubsubName, string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(pubsubName);
        ArgumentException.ThrowIfNullOrEmpty(name);
        PubsubName = pubsubName;
        Name = name;
    }

    public TopicAttribute(string pubsubName, string name, string deadLetterTopic, bool enableRawPayload)
        : this(pubsubName, name)
    {
        DeadLetterTopic = deadLetterTopic;
        EnableRawPayload = enableRawPayload;
    }

    public TopicAttribute(string pubsubName, string name, string match, int priority)
        : this(pubsubName, name)
    {
        Match = match;
        Priority = priority;
    }

    public string PubsubName { get; }

    public string Name { get; }

    /// <inheritdoc/>
    // Attribute.Match(object) is unrelated; the SDK's property name wins.
    public new string? Match { get; set; }

    /// <inheritdoc/>
    public int Priority { get; set; }

    /// <inheritdoc/>
    public string? DeadLetterTopic { get; set; }

    /// <inheritdoc/>
    public bool EnableRawPayload { get; set; }
}

/// <summary>A subscription metadata entry for every topic the endpoint subscribes to (for example <c>[TopicMetadata("queueType", "fifo")]</c>).</summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Method, AllowMultiple = true)]
public sealed class TopicMetadataAttribute(string name, string value) : Attribute
{
    public string Name { get; } = name;

    public string Value { get; } = value;
}

/// <summary>Everything <c>.WithTopic(options)</c> can say about a subscription.</summary>
public sealed record TopicOptions
{
    public required string PubsubName { get; init; }

    public required string Name { get; init; }

    /// <inheritdoc cref="ITopicMetadata.Match"/>
    public string? Match { get; init; }

    /// <inheritdoc cref="ITopicMetadata.Priority"/>
    public int Priority { get; init; }

    /// <inheritdoc cref="ITopicMetadata.DeadLetterTopic"/>
    public string? DeadLetterTopic { get; init; }

    /// <inheritdoc cref="ITopicMetadata.EnableRawPayload"/>
    public bool EnableRawPayload { get; init; }

    public IReadOnlyDictionary<string, string>? Metadata { get; init; }
}
