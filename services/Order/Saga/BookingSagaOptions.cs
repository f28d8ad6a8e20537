namespace CloudScale.Order.Saga;

/// <summary>The <c>BookingSaga</c> configuration section (environment variables <c>BookingSaga__PaymentConfirmationTimeout</c>, …).</summary>
internal sealed class BookingSagaOptions
{
    public const string SectionName = "BookingSaga";

    /// <summary>The route the payment provider posts its decisions to.</summary>
    public const string PaymentConfirmationPath = "/payment-confirmations";

    /// <summary>How long the saga waits for the provider's decision before it gives the payment and the hold back.</summary>
    public TimeSpan PaymentConfirmationTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// Where the provider reaches this service (every replica, behind its load balancer): the AppHost sets it to Order's
    /// own endpoint; in the cloud it is the public address of the Container App.
    /// </summary>
    public Uri? PublicBaseUrl { get; set; }

    /// <summary>How often each replica looks for pending orders whose saga never started.</summary>
    public TimeSpan RecoveryInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How long an order must have been pending before a missing saga counts as lost rather than about to start.</summary>
    public TimeSpan RecoveryAge { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// How long a request waits for the sidecar to answer a call about a saga. The SDK's client waits for a sidecar that is
    /// down until it is back (gRPC wait-for-ready), which would hold a customer's request for as long.
    /// </summary>
    public TimeSpan SidecarTimeout { get; set; } = TimeSpan.FromSeconds(3);

    public Uri PaymentCallbackUrl() =>
        new(PublicBaseUrl ?? throw new InvalidOperationException($"{SectionName}:{nameof(PublicBaseUrl)} is not set."), PaymentConfirmationPath);
}
