using System.Reflection;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Orchestration;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Aspire.Hosting;

public interface IDistributedApplicationBuilder
{
    ConfigurationManager Configuration { get; }

    IHostEnvironment Environment { get; }

    IServiceCollection Services { get; }

    /// <summary>The AppHost project's directory: where <c>.cloudscale/</c> (data, logs, generated secrets) lives.</summary>
    string AppHostDirectory { get; }

    IReadOnlyList<IResource> Resources { get; }

    IResourceBuilder<T> AddResource<T>(T resource) where T : IResource;

    IResourceBuilder<T> CreateResourceBuilder<T>(T resource) where T : IResource;

    DistributedApplication Build();
}

public interface IResourceBuilder<out T> where T : IResource
{
    IDistributedApplicationBuilder ApplicationBuilder { get; }

    T Resource { get; }
}

internal sealed class ResourceBuilder<T>(IDistributedApplicationBuilder applicationBuilder, T resource) : IResourceBuilder<T> where T : IResource
{
    public IDistributedApplicationBuilder ApplicationBuilder { get; } = applicationBuilder;

    public T Resource { get; } = resource;
}

/// <summary>Reaches the real builder behind a wrapper (Hosting.Testing's), for what only the real one holds.</summary>
internal interface IDistributedApplicationBuilderCore
{
    DistributedApplicationBuilder Core { get; }
}

public sealed class DistributedApplicationBuilder : IDistributedApplicationBuilder, IDistributedApplicationBuilderCore
{
    private readonly HostApplicationBuilder _host;
    private readonly List<IResource> _resources = [];

    internal DistributedApplicationBuilder(string[] args)
    {
        AppHostAssembly = DistributedApplicationTestingHooks.Current?.AppHostAssembly ?? Assembly.GetEntryAssembly();
        var appHostAssembly = AppHostAssembly;
        AppHostDirectory = appHostAssembly?.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(attribute => attribute.Key == "AppHostProjectDirectory")?.Value ?? Directory.GetCurrentDirectory();
        _host = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            Args = args,
            ContentRootPath = AppHostDirectory,
            EnvironmentName = System.Environment.GetEnvironmentVariable("DOTNET_ENVIRONMENT") ?? Environments.Development,
        });
        Secrets = new GeneratedSecrets(this);
    }

    public ConfigurationManager Configuration => _host.Configuration;

    public IHostEnvironment Environment => _host.Environment;

    public IServiceCollection Services => _host.Services;

    public string AppHostDirectory { get; }

    public IReadOnlyList<IResource> Resources => _resources;

    internal GeneratedSecrets Secrets { get; }

    DistributedApplicationBuilder IDistributedApplicationBuilderCore.Core => this;

    /// <summary>The AppHost's assembly (not the test's, under Hosting.Testing): its directory and build configuration matter.</summary>
    internal Assembly? AppHostAssembly { get; }

    /// <summary>Where persistent data, logs and generated secrets live: <c>AppHost:DataDirectory</c>, else <c>{AppHostDirectory}/.cloudscale</c>.</summary>
    internal string DataDirectory => Configuration["AppHost:DataDirectory"] is { Length: > 0 } configured
        ? Path.GetFullPath(configured, AppHostDirectory)
        : Path.Combine(AppHostDirectory, ".cloudscale");

    /// <summary><c>AppHost:EphemeralData=true</c>: Redis and Postgres start empty and nothing they write survives the run.</summary>
    internal bool EphemeralData => Configuration.GetValue<bool>("AppHost:EphemeralData");

    public IResourceBuilder<T> AddResource<T>(T resource) where T : IResource
    {
        if (_resources.Any(existing => string.Equals(existing.Name, resource.Name, StringComparison.OrdinalIgnoreCase)))
        {
            throw new DistributedApplicationException($"Cannot add resource '{resource.Name}': a resource with that name already exists.");
        }

        _resources.Add(resource);
        return CreateResourceBuilder(resource);
    }

    public IResourceBuilder<T> CreateResourceBuilder<T>(T resource) where T : IResource => new ResourceBuilder<T>(this, resource);

    public DistributedApplication Build()
    {
        if (DistributedApplicationTestingHooks.Current is { } session && session.CaptureBuilder(this))
        {
            throw new BuilderCapturedException();
        }

        return BuildCore();
    }

    internal DistributedApplication BuildCore()
    {
        _host.Services.AddSingleton(this);
        _host.Services.AddSingleton<ResourceNotificationService>();
        // A directory per application, not per process: a test process runs several at once, each reaping only its own.
        _host.Services.AddSingleton<ProcessReaper>(_ => ProcessReaper.Start(Directory.CreateTempSubdirectory($"cloudscale-apphost-{System.Environment.ProcessId}-").FullName));
        _host.Services.AddSingleton<Orchestrator>();
        _host.Services.AddHostedService(services => services.GetRequiredService<Orchestrator>());
        _host.Services.AddHttpClient();
        // Health probes of starting processes fail by design; the state table says what matters.
        _host.Logging.AddFilter("System.Net.Http.HttpClient", LogLevel.Warning);
        return new DistributedApplication(_host.Build());
    }
}

public class DistributedApplicationException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>Thrown through the AppHost's Main when the testing builder has taken its model (as HostFactoryResolver does).</summary>
internal sealed class BuilderCapturedException() : Exception("The testing builder captured the application model.");
