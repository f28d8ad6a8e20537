using System.Reflection;
using CloudScale.ServiceDefaults.Data;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Microsoft.Extensions.Hosting;

public static class SchemaMigrationExtensions
{
    /// <summary>
    /// Applies the <c>Migrations/NNNN_name.sql</c> files embedded in <paramref name="migrations"/> (the service's assembly)
    /// to the registered <see cref="NpgsqlDataSource"/> at start-up, before the service listens. Register it before any
    /// hosted service that uses the schema: hosted services start in registration order.
    /// </summary>
    public static IServiceCollection AddSchemaMigrations(this IServiceCollection services, Assembly migrations) =>
        services.AddHostedService(provider => new SchemaMigrator(
            provider.GetRequiredService<NpgsqlDataSource>(), migrations, provider.GetRequiredService<ILogger<SchemaMigrator>>()));
}
