namespace CloudScale.Order.Payments;

internal static class PaymentProviderRegistration
{
    /// <summary>Configuration of this client's resilience pipeline, bound over the payment defaults below.</summary>
    public const string ResilienceSection = "PaymentProvider:Resilience";

    /// <summary>
    /// Registers <see cref="PaymentProviderClient"/> at <c>http://payments</c>, which service discovery resolves from
    /// <c>services:payments:http:0</c> (what the AppHost's <c>WithReference</c> sets) when a call is made, so that Order
    /// starts without it until the saga needs the provider.
    /// </summary>
    public static void AddPaymentProvider(this IHostApplicationBuilder builder) =>
        builder.Services.AddHttpClient<PaymentProviderClient>(client => client.BaseAddress = new Uri($"http://{PaymentProviderClient.ServiceName}"))
            .WithStandardResilience(options =>
            {
                // A payment call should fail fast rather than hold a saga step for the default 30 s; and a provider
                // failing half of a handful of calls is down, so stop calling it (the default waits for 100 calls at 10 %).
                options.AttemptTimeout.Timeout = TimeSpan.FromSeconds(5);
                options.TotalRequestTimeout.Timeout = TimeSpan.FromSeconds(20);
                options.CircuitBreaker.FailureRatio = 0.5;
                options.CircuitBreaker.MinimumThroughput = 10;
                options.CircuitBreaker.BreakDuration = TimeSpan.FromSeconds(15);
                builder.Configuration.GetSection(ResilienceSection).Bind(options);
            });
}
