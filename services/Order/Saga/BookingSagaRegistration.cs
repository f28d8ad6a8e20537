using CloudScale.Order.Booking;
using Dapr;
using Dapr.Client;
using Dapr.Workflow;

namespace CloudScale.Order.Saga;

internal static class BookingSagaRegistration
{
    public static void AddBookingSaga(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<BookingSagaOptions>()
            .BindConfiguration(BookingSagaOptions.SectionName)
            .Validate(options => options.PaymentConfirmationTimeout > TimeSpan.Zero, "BookingSaga:PaymentConfirmationTimeout must be positive.")
            .Validate(options => options.PublicBaseUrl is null or { IsAbsoluteUri: true, Scheme: "http" or "https" },
                "BookingSaga:PublicBaseUrl must be an absolute http(s) URL.")
            .Validate(options => options.RecoveryInterval > TimeSpan.Zero && options.RecoveryAge >= TimeSpan.Zero,
                "BookingSaga:RecoveryInterval must be positive and BookingSaga:RecoveryAge not negative.")
            .Validate(options => options.SidecarTimeout > TimeSpan.Zero, "BookingSaga:SidecarTimeout must be positive.")
            .ValidateOnStart();
        // Not an IHttpClientFactory client: ServiceDefaults' standard resilience handler would retry the sidecar's answers
        // again, and service discovery would resolve http://booking past the sidecar. The sidecar's policy owns retries.
        builder.Services.AddSingleton(services =>
        {
            var configuration = services.GetRequiredService<IConfiguration>();
            return new BookingClient(DaprClient.CreateInvokeHttpClient(
                BookingClient.AppId, DaprDefaults.GetDefaultHttpEndpoint(configuration), DaprDefaults.GetDefaultDaprApiToken(configuration)));
        });
        builder.Services.AddSingleton<BookingSagas>();
        builder.Services.AddHostedService<PendingSagaRecovery>();
        // Dapr.Workflow's source generator registers every Workflow<,> and WorkflowActivity<,> of this assembly; listing
        // them again here made the SDK warn that each was already registered.
        builder.Services.AddDaprWorkflow();
    }
}
