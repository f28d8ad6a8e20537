using System.Text.Json;
using System.Text.Json.Serialization;
using CloudScale.Order.Orders;
using CloudScale.Order.Outbox;
using CloudScale.Order.Payments;
using CloudScale.Order.Saga;
using CloudScale.ServiceDefaults.Hosting;
using StackExchange.Redis;

namespace CloudScale.Order.Extensions;

internal static class ApplicationServiceExtensions
{
    /// <summary>Everything Order needs beyond ServiceDefaults; each dependency also joins the /health readiness report.</summary>
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddNpgsqlDataSource("orderdb");
        builder.AddRedisClient("cache");
        builder.Services.ResolveAtStart<IConnectionMultiplexer>();
        builder.AddDaprSidecar();

        builder.Services.AddOptions<OutboxOptions>()
            .BindConfiguration(OutboxOptions.SectionName)
            .Validate(options => !string.IsNullOrWhiteSpace(options.PubSubName), "Outbox:PubSubName is required.")
            .Validate(options => options.PollInterval > TimeSpan.Zero, "Outbox:PollInterval must be positive.")
            .Validate(options => options.BatchSize is > 0 and <= 10_000, "Outbox:BatchSize must be between 1 and 10000.")
            .Validate(options => options.MaxRetryDelay >= options.PollInterval, "Outbox:MaxRetryDelay must be at least Outbox:PollInterval.")
            .ValidateOnStart();

        // Hosted services start in registration order and before Kestrel listens: the schema is in place before anything uses it.
        builder.Services.AddSchemaMigrations(typeof(ApplicationServiceExtensions).Assembly);
        builder.Services.AddHostedService<OutboxRelay>();

        builder.Services.AddSingleton<OrderStore>();
        builder.Services.AddOptions<OrderPlacementLimitOptions>()
            .BindConfiguration(OrderPlacementLimitOptions.SectionName)
            .Validate(options => options.TokenLimit > 0 && options.TokensPerPeriod > 0, "OrderPlacementLimit:TokenLimit and TokensPerPeriod must be positive.")
            .Validate(options => options.ReplenishmentPeriod > TimeSpan.Zero, "OrderPlacementLimit:ReplenishmentPeriod must be positive.")
            .ValidateOnStart();
        builder.Services.AddSingleton<OrderPlacementLimit>();
        builder.AddPaymentProvider();
        builder.AddBookingSaga();

        // Statuses travel as "pending", "confirmed", "cancelled".
        builder.Services.ConfigureHttpJsonOptions(options =>
            options.SerializerOptions.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase)));
        builder.Services.AddOpenApi();
    }
}
