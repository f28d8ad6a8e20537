namespace CloudScale.Sidecar.Configuration;

internal sealed record ComponentDefinition(
    string File,
    string Name,
    string Type,
    string Version,
    IReadOnlyDictionary<string, string> Metadata)
{
    public string? Get(string key) => Metadata.TryGetValue(key, out var value) && value.Length > 0 ? value : null;

    public ConfigurationException Error(string key, string problem) => new($"{File}: component '{Name}': spec.metadata.{key}: {problem}");
}

internal sealed record RouteRule(string Match, MatchExpression Expression, string Path);

internal sealed record SubscriptionDefinition(
    string PubsubName,
    string Topic,
    IReadOnlyList<RouteRule> Rules,
    string? DefaultRoute,
    string? DeadLetterTopic,
    IReadOnlyDictionary<string, string> Metadata,
    SubscriptionKind Kind)
{
    /// <summary>Rules in order, then the default route; null when the event matches nothing.</summary>
    public string? RouteFor(System.Text.Json.JsonElement cloudEvent)
    {
        foreach (var rule in Rules)
        {
            if (rule.Expression.Evaluate(cloudEvent))
            {
                return rule.Path;
            }
        }

        return DefaultRoute;
    }
}

internal enum SubscriptionKind
{
    Declarative,
    Programmatic,
}

internal sealed record RetryPolicy(string Name, bool Exponential, TimeSpan Duration, TimeSpan MaxInterval, int MaxRetries, Func<int, bool>? MatchesStatus)
{
    /// <summary>Retries after the first attempt; null means no limit (Dapr's -1).</summary>
    public int? Limit => MaxRetries < 0 ? null : MaxRetries;
}

internal sealed record CircuitBreakerPolicy(string Name, int MaxRequests, TimeSpan Interval, TimeSpan Timeout, int ConsecutiveFailures);

internal sealed record TargetPolicy(TimeSpan? Timeout, RetryPolicy? Retry, CircuitBreakerPolicy? CircuitBreaker);

internal sealed record ResiliencyDefinition(
    IReadOnlyDictionary<string, TargetPolicy> Apps,
    IReadOnlyDictionary<string, TargetPolicy> ComponentsInbound,
    IReadOnlyDictionary<string, TargetPolicy> ComponentsOutbound)
{
    public static ResiliencyDefinition Empty { get; } = new(
        new Dictionary<string, TargetPolicy>(StringComparer.Ordinal),
        new Dictionary<string, TargetPolicy>(StringComparer.Ordinal),
        new Dictionary<string, TargetPolicy>(StringComparer.Ordinal));
}

internal sealed record LoadedResources(
    IReadOnlyList<ComponentDefinition> Components,
    IReadOnlyList<SubscriptionDefinition> Subscriptions,
    ResiliencyDefinition Resiliency);
