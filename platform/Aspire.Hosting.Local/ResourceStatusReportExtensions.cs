using Aspire.Hosting.Local;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Aspire.Hosting;

public static class ResourceStatusReportExtensions
{
    /// <summary>Prints the resource table on the console once everything is up, then every change of state.</summary>
    public static IDistributedApplicationBuilder AddConsoleStatusReport(this IDistributedApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (builder.ExecutionContext.IsRunMode)
        {
            builder.Eventing.Subscribe<BeforeStartEvent>((@event, cancellationToken) =>
            {
                var report = new ResourceStatusReport(
                    @event.Services.GetRequiredService<ResourceNotificationService>(), @event.Services.GetRequiredService<ResourceLoggerService>(), @event.Model);
                _ = report.WatchAsync(@event.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping);
                return Task.CompletedTask;
            });
        }

        return builder;
    }

    /// <summary>
    /// Turns off the ANSI colours .NET's console logger writes when Aspire lets it colour redirected output, so that console
    /// logs read the same on the dashboard, in a log file and in a terminal.
    /// </summary>
    public static IDistributedApplicationBuilder AddPlainConsoleLogs(this IDistributedApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Eventing.Subscribe<BeforeStartEvent>((@event, cancellationToken) =>
        {
            foreach (var project in @event.Model.Resources.OfType<ProjectResource>())
            {
                project.Annotations.Add(new EnvironmentCallbackAnnotation(environment =>
                    environment["Logging__Console__FormatterOptions__ColorBehavior"] = "Disabled"));
            }

            return Task.CompletedTask;
        });
        return builder;
    }
}
