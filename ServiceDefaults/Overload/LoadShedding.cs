using System.Threading.RateLimiting;
using CloudScale.ServiceDefaults.Errors;
using CloudScale.ServiceDefaults.Health;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Hosting;

namespace CloudScale.ServiceDefaults.Overload;

/// <summary>
/// Backpressure at the edge of every service: at most <c>ServiceDefaults:MaxConcurrentRequests</c> requests are served at
/// once and <c>ServiceDefaults:RequestQueueLimit</c> more wait, oldest first (a waiting request whose client gives up
/// leaves the queue); beyond that a request is shed at once with a 503 problem and <c>Retry-After</c> instead of piling
/// up until every client times out. Health probes are never counted, so an orchestrator still sees a busy service as
/// alive and ready, and neither are endpoints marked <c>DisableRateLimiting()</c>, such as a long-lived stream.
/// ASP.NET Core's <c>aspnetcore.rate_limiting.*</c> metrics show the queue and the shed requests.
/// </summary>
public static class LoadShedding
{
    public const string ProblemType = "overloaded";

    public static TBuilder AddLoadShedding<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        var permits = builder.Configuration.GetValue("ServiceDefaults:MaxConcurrentRequests", 512);
        var queue = builder.Configuration.GetValue("ServiceDefaults:RequestQueueLimit", 2048);
        if (permits < 1 || queue < 0)
        {
            throw new InvalidOperationException(
                $"ServiceDefaults:MaxConcurrentRequests must be positive and ServiceDefaults:RequestQueueLimit not negative (they are {permits} and {queue}).");
        }

        builder.Services.AddRateLimiter(options =>
        {
            options.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context => HealthEndpoints.IsProbe(context.Request.Path)
                ? RateLimitPartition.GetNoLimiter("probes")
                : RateLimitPartition.GetConcurrencyLimiter("requests", _ => new ConcurrencyLimiterOptions
                {
                    PermitLimit = permits,
                    QueueLimit = queue,
                    QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
                }));
            options.RejectionStatusCode = StatusCodes.Status503ServiceUnavailable;
            options.OnRejected = WriteOverloadedAsync;
        });
        return builder;
    }

    private static async ValueTask WriteOverloadedAsync(OnRejectedContext rejected, CancellationToken cancellationToken)
    {
        var context = rejected.HttpContext;
        var retryAfter = RetryAfter.Set(context.Response, TimeSpan.FromSeconds(1));
        await context.RequestServices.GetRequiredService<IProblemDetailsService>().TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = new ProblemDetails
            {
                Status = StatusCodes.Status503ServiceUnavailable,
                Type = DomainProblem.TypeBase + ProblemType,
                Title = "Overloaded",
                Detail = $"The service is serving and queueing as many requests as it can; try again in {retryAfter} s (Retry-After).",
            },
        });
    }
}
