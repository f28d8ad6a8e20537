using CloudScale.ServiceDefaults.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;

namespace CloudScale.ServiceDefaults;

/// <summary>
/// Puts the error handling and telemetry middleware at the very front of every pipeline, so that
/// nothing a service adds later can run outside them and Program.cs stays free of ordering rules.
/// </summary>
internal sealed class ServiceDefaultsStartupFilter : IStartupFilter
{
    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.UseMiddleware<ServerSpanMiddleware>();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        next(app);
    };
}
