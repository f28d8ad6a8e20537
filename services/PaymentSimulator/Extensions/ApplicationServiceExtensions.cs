using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.DependencyInjection.Extensions;
using CloudScale.PaymentSimulator.Behaviour;
using CloudScale.PaymentSimulator.Payments;

namespace CloudScale.PaymentSimulator.Extensions;

internal static class ApplicationServiceExtensions
{
    /// <summary>Everything the simulator needs beyond ServiceDefaults: its in-memory ledger, behaviour and callback sender.</summary>
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        var initial = builder.Configuration.GetSection(SimulatorBehaviour.SectionName).Get<SimulatorBehaviour>() ?? new SimulatorBehaviour();
        var errors = initial.Validate();
        if (errors.Count > 0)
        {
            throw new InvalidOperationException($"The {SimulatorBehaviour.SectionName} configuration is invalid: " +
                string.Join("; ", errors.Select(error => $"{error.Key}: {string.Join(' ', error.Value)}")));
        }

        builder.Services.AddSingleton(new BehaviourSettings(initial));
        builder.Services.AddSingleton<PaymentLedger>();
        builder.Services.AddSingleton<PaymentCallbacks>();
        builder.Services.AddHostedService(services => services.GetRequiredService<PaymentCallbacks>());
        // Redelivery (PaymentCallbacks) is this client's only retry layer: the default pipeline's retries would hold a
        // decision back for seconds, and its circuit breaker would drop the decisions of every order behind a broken one.
        builder.Services.AddHttpClient(PaymentCallbacks.HttpClientName, client => client.Timeout = PaymentCallbacks.AttemptTimeout)
            .WithoutResilience();
        builder.Services.TryAddSingleton(TimeProvider.System);

        builder.Services.ConfigureHttpJsonOptions(options =>
            options.SerializerOptions.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase)));
        builder.Services.AddOpenApi();
    }

    /// <summary>The simulator's HTTP API (see README.md) and its OpenAPI document at /openapi/v1.json.</summary>
    public static WebApplication MapPaymentSimulatorApi(this WebApplication app)
    {
        app.MapOpenApi();
        app.MapPaymentsApi();
        app.MapBehaviourApi();
        return app;
    }
}
