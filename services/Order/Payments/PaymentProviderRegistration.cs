using CloudScale.ServiceDefaults.Resilience;

namespace CloudScale.Order.Payments;

internal static class PaymentProviderRegistration
{
    /// <summary>Configuration of this client's resilience pipeline, bound over the payment defaults below.</summary>
    public const string ResilienceSection = "PaymentProvider:Resilience";

    /// <summary>
    /// Registers <see cref="PaymentProviderClient"/> at the provider's service-discovery address. The address is read
    /// when the client is first created, so that Order starts without it until the saga needs the provider.
    /// </summary>
    public static void AddPaymentProvider(this IHostApplicationBuilder builder)
    {
        var address = $"services:{PaymentProviderClient.ServiceName}:http:0";
        builder.Services.AddHttpClient<PaymentProviderClient>((services, client) =>
                client.BaseAddress = new Uri(services.GetRequiredService<IConfiguration>()[address]
                    ?? throw new InvalidOperationException($"The payment provider's address is missing: set {address} (environment variable {address.Replace(":", "__", StringComparison.Ordinal)}).")))
            .ConfigureStandardResilience(options =>
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
}
