using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Orchestration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Aspire.Hosting;

/// <summary>
/// The running app model. <c>Run</c> starts every resource and blocks until Ctrl+C or SIGTERM, then stops
/// them in reverse dependency order.
/// </summary>
public sealed class DistributedApplication(IHost host) : IHost, IAsyncDisposable
{
    public IServiceProvider Services => host.Services;

    public ResourceNotificationService ResourceNotifications => Services.GetRequiredService<ResourceNotificationService>();

    public static IDistributedApplicationBuilder CreateBuilder() => CreateBuilder([]);

    public static IDistributedApplicationBuilder CreateBuilder(string[] args)
    {
        var builder = new DistributedApplicationBuilder(args);
        DistributedApplicationTestingHooks.Current?.OnBuilderCreated(builder);
        return builder;
    }

    public Task StartAsync(CancellationToken cancellationToken = default) => host.StartAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken = default) => host.StopAsync(cancellationToken);

    public Task RunAsync(CancellationToken cancellationToken = default) => host.RunAsync(cancellationToken);

    public void Run() => host.Run();

    public void Dispose() => host.Dispose();

    public async ValueTask DisposeAsync()
    {
        if (host is IAsyncDisposable asyncDisposable)
        {
            await asyncDisposable.DisposeAsync();
        }
        else
        {
            host.Dispose();
        }
    }

    /// <summary>The URL of a resource's endpoint (the stable, load-balanced one for replicated projects).</summary>
    public Uri GetEndpoint(string resourceName, string endpointName = "http") =>
        FindResource(resourceName).Annotations.OfType<EndpointAnnotation>().FirstOrDefault(endpoint => endpoint.Name == endpointName)?.Url
        ?? throw new ArgumentException($"Resource '{resourceName}' has no endpoint named '{endpointName}'.", nameof(endpointName));

    public string? GetConnectionString(string resourceName) => (FindResource(resourceName) as IResourceWithConnectionString)?.ConnectionString;

    internal IResource FindResource(string resourceName) =>
        Services.GetRequiredService<DistributedApplicationBuilder>().Resources.FirstOrDefault(resource => resource.Name == resourceName)
        ?? throw new ArgumentException($"No resource named '{resourceName}'.", nameof(resourceName));
}

/// <summary>What lets Hosting.Testing take the model an AppHost's Main builds, without running it.</summary>
internal static class DistributedApplicationTestingHooks
{
    private static readonly AsyncLocal<ITestingSession?> Session = new();

    public static ITestingSession? Current
    {
        get => Session.Value;
        set => Session.Value = value;
    }
}

internal interface ITestingSession
{
    System.Reflection.Assembly? AppHostAssembly { get; }

    void OnBuilderCreated(DistributedApplicationBuilder builder);

    /// <summary>True when the session took the builder and the AppHost's Main must stop here.</summary>
    bool CaptureBuilder(DistributedApplicationBuilder builder);
}
