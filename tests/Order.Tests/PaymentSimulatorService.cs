using CloudScale.PaymentSimulator.Extensions;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Hosting;

namespace CloudScale.Order.Tests;

/// <summary>The PaymentSimulator composed exactly as its Program.cs does.</summary>
internal static class PaymentSimulatorService
{
    /// <summary>The PaymentSimulator with <paramref name="settings"/> (its <c>PaymentSimulator</c> section).</summary>
    public static Task<InProcessApp> StartPaymentSimulatorAsync(
        IReadOnlyDictionary<string, string?> settings, Action<WebApplication>? beforeEndpoints = null, string environment = "Production") =>
        InProcessApp.StartAsync(
            settings,
            builder =>
            {
                builder.AddServiceDefaults();
                builder.AddApplicationServices();
            },
            app =>
            {
                beforeEndpoints?.Invoke(app);
                app.MapDefaultEndpoints();
                app.MapPaymentSimulatorApi();
            },
            environment);
}
