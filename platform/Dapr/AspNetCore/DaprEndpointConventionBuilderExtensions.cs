using Dapr;

namespace Microsoft.AspNetCore.Builder;

public static class DaprEndpointConventionBuilderExtensions
{
    /// <summary>Subscribes the endpoint to <paramref name="name"/> on pub/sub <paramref name="pubsubName"/> (see <c>MapSubscribeHandler()</c>).</summary>
    public static T WithTopic<T>(this T builder, string pubsubName, string name)
        where T : IEndpointConventionBuilder =>
        builder.WithTopic(new TopicOptions { PubsubName = pubsubName, Name = name });

    /// <summary>As <see cref="WithTopic{T}(T, string, string)"/>, with subscription metadata for the pub/sub component.</summary>
    public static T WithTopic<T>(this T builder, string pubsubName, string name, IReadOnlyDictionary<string, string> metadata)
        where T : IEndpointConventionBuilder =>
        builder.WithTopic(new TopicOptions { PubsubName = pubsubName, Name = name, Metadata = metadata });

    /// <summary>Subscribes the endpoint with a match rule and priority, dead-letter topic, raw payloads and metadata as given.</summary>
    public static T WithTopic<T>(this T builder, TopicOptions topicOptions)
        where T : IEndpointConventionBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(topicOptions);
        builder.WithMetadata(new TopicAttribute(topicOptions.PubsubName, topicOptions.Name)
        {
            Match = topicOptions.Match,
            Priority = topicOptions.Priority,
            DeadLetterTopic = topicOptions.DeadLetterTopic,
            EnableRawPayload = topicOptions.EnableRawPayload,
        });
        foreach (var (key, value) in topicOptions.Metadata ?? new Dictionary<string, string>(StringComparer.Ordinal))
        {
            builder.WithMetadata(new TopicMetadataAttribute(key, value));
        }

        return builder;
    }
}
