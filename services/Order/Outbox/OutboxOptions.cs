namespace CloudScale.Order.Outbox;

/// <summary>The <c>Outbox</c> configuration section (environment variables <c>Outbox__PollInterval</c>, …).</summary>
internal sealed class OutboxOptions
{
    public const string SectionName = "Outbox";

    /// <summary>The Dapr pub/sub component the events go to.</summary>
    public string PubSubName { get; set; } = "pubsub";

    /// <summary>How often an idle relay looks for new rows: the usual delay between a commit and its event.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How many rows one relay claims at a time; another replica's relay takes the next ones meanwhile.</summary>
    public int BatchSize { get; set; } = 100;

    /// <summary>The longest wait between attempts while publishing keeps failing (the wait doubles from <see cref="PollInterval"/>).</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(30);
}
