using CloudScale.Redis;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;

namespace Microsoft.Extensions.Hosting;

/// <summary>The client integration, shaped like Aspire's <c>AddRedisClient</c>.</summary>
public static class RedisClientExtensions
{
    /// <summary>
    /// Registers an <see cref="IConnectionMultiplexer"/> for <c>ConnectionStrings:{connectionName}</c> (environment variable
    /// <c>ConnectionStrings__{connectionName}</c>), keyed by that name and, for the first one, unkeyed, plus a readiness
    /// check of the same name tagged <c>ready</c>. The multiplexer connects in the background, so the application starts
    /// even while Redis is down.
    /// </summary>
    public static TBuilder AddRedisClient<TBuilder>(this TBuilder builder, string connectionName, Action<ConfigurationOptions>? configure = null)
        where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        var connectionString = builder.Configuration.GetConnectionString(connectionName);
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw new InvalidOperationException(
                $"Connection string '{connectionName}' is missing: set ConnectionStrings:{connectionName} " +
                $"(environment variable ConnectionStrings__{connectionName}).");
        }

        var options = ConfigurationOptions.Parse(connectionString);
        options.ClientName ??= builder.Environment.ApplicationName;
        configure?.Invoke(options);

        builder.Services.AddKeyedSingleton<IConnectionMultiplexer>(connectionName, (services, _) =>
            ConnectionMultiplexer.Create(options, services.GetRequiredService<ILoggerFactory>()));
        if (builder.Services.All(descriptor => descriptor.ServiceType != typeof(IConnectionMultiplexer) || descriptor.IsKeyedService))
        {
            builder.Services.AddSingleton(services => services.GetRequiredKeyedService<IConnectionMultiplexer>(connectionName));
        }

        builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(
            connectionName,
            services => new RedisHealthCheck(services.GetRequiredKeyedService<IConnectionMultiplexer>(connectionName)),
            failureStatus: HealthStatus.Unhealthy,
            tags: ["ready"],
            timeout: RedisHealthCheck.Timeout + TimeSpan.FromSeconds(1)));
        return builder;
    }
}
