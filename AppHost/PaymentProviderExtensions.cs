using Microsoft.Extensions.Configuration;

namespace CloudScale.AppHost;

internal static class PaymentProviderExtensions
{
    private const string DeploySimulatorSetting = "AppHost:DeployPaymentSimulator";

    /// <summary>
    /// Gives Order its payment provider at <c>http://payments</c> (service discovery). That is the simulator (latency,
    /// decline and error rates change at run time with <c>PUT /admin/behaviour</c>) when run locally, and in a deployment
    /// only when <c>AppHost:DeployPaymentSimulator</c> is true; otherwise a deployment points at the real provider, whose
    /// URL is the <c>payment-provider-url</c> parameter (azd asks for it).
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithPaymentProvider(this IResourceBuilder<ProjectResource> order)
    {
        var builder = order.ApplicationBuilder;
        if (builder.ExecutionContext.IsPublishMode && !builder.Configuration.GetValue(DeploySimulatorSetting, false))
        {
            return order.WithEnvironment("services__payments__http__0", builder.AddParameter("payment-provider-url"));
        }

        var simulator = builder.AddProject<Projects.PaymentSimulator>("payments").WithHttpHealthCheck("/health");
        return order.WithReference(simulator).WaitFor(simulator);
    }
}
