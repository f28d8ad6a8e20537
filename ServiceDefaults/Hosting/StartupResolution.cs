using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace CloudScale.ServiceDefaults.Hosting;

public static class StartupResolution
{
    /// <summary>
    /// Builds the singleton <typeparamref name="TService"/> while the host starts, before Kestrel listens, instead of in
    /// the first request that needs it. For a service whose construction blocks: Aspire's <c>AddRedisClient</c> connects
    /// StackExchange.Redis synchronously, and a burst of first requests then waits on that connect and on the
    /// container's lock for the singleton, each holding a thread-pool thread, until the pool has starved for seconds.
    /// </summary>
    public static IServiceCollection ResolveAtStart<TService>(this IServiceCollection services) where TService : notnull =>
        services.AddHostedService(provider => new Resolver<TService>(provider));

    private sealed class Resolver<TService>(IServiceProvider services) : IHostedService where TService : notnull
    {
        // Off the starting thread: the build blocks, and the host may start several services at once.
        public Task StartAsync(CancellationToken cancellationToken) => Task.Run(() => services.GetRequiredService<TService>(), cancellationToken);

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
