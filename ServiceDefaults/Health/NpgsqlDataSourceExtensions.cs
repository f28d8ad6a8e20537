using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace CloudScale.ServiceDefaults.Health;

public static class NpgsqlDataSourceExtensions
{
    /// <summary>
    /// Registers a pooled <see cref="NpgsqlDataSource"/> for <c>ConnectionStrings:{connectionName}</c> (the variable
    /// the AppHost injects as <c>ConnectionStrings__{connectionName}</c>), keyed by that name and, for the first one,
    /// unkeyed, plus a readiness check of the same name, as Aspire's <c>AddNpgsqlDataSource</c> does.
    /// </summary>
    public static TBuilder AddNpgsqlDataSource<TBuilder>(this TBuilder builder, string connectionName)
        where TBuilder : IHostApplicationBuilder
    {
        var connectionString = builder.Configuration.GetConnectionString(connectionName);
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw new InvalidOperationException(
                $"Connection string '{connectionName}' is missing: set ConnectionStrings:{connectionName} " +
                $"(environment variable ConnectionStrings__{connectionName}).");
        }

        builder.Services.AddKeyedSingleton(connectionName, (services, _) =>
        {
            var dataSource = new NpgsqlDataSourceBuilder(connectionString);
            dataSource.ConnectionStringBuilder.ApplicationName ??= builder.Environment.ApplicationName;
            dataSource.UseLoggerFactory(services.GetRequiredService<ILoggerFactory>());
            return dataSource.Build();
        });
        if (builder.Services.All(descriptor => descriptor.ServiceType != typeof(NpgsqlDataSource) || descriptor.IsKeyedService))
        {
            builder.Services.AddSingleton(services => services.GetRequiredKeyedService<NpgsqlDataSource>(connectionName));
        }

        builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(
            connectionName,
            services => new NpgsqlHealthCheck(services.GetRequiredKeyedService<NpgsqlDataSource>(connectionName)),
            failureStatus: HealthStatus.Unhealthy,
            tags: [HealthEndpoints.ReadyTag]));
        return builder;
    }
}

/// <summary>Ready when Postgres answers a round trip through the pool.</summary>
public sealed class NpgsqlHealthCheck(NpgsqlDataSource dataSource) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await using var command = dataSource.CreateCommand("SELECT 1");
            await command.ExecuteScalarAsync(cancellationToken);
            return HealthCheckResult.Healthy();
        }
        catch (Exception exception) when (exception is NpgsqlException or TimeoutException or InvalidOperationException)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, "Postgres did not answer.", exception);
        }
    }
}
