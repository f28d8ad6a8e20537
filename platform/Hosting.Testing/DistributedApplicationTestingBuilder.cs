using System.Reflection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Aspire.Hosting.Testing;

public interface IDistributedApplicationTestingBuilder : IDistributedApplicationBuilder, IAsyncDisposable
{
    Task<DistributedApplication> BuildAsync(CancellationToken cancellationToken = default);
}

/// <summary>
/// Shaped like Aspire.Hosting.Testing: runs an AppHost's Main until it calls <c>Build()</c>, takes the model it
/// declared, and lets the test adjust it before building. Test defaults: throwaway Redis/Postgres data and logs
/// in a temporary directory removed on dispose (ports are always allocated freshly).
/// </summary>
public static class DistributedApplicationTestingBuilder
{
    public static Task<IDistributedApplicationTestingBuilder> CreateAsync<TEntryPoint>(CancellationToken cancellationToken = default) where TEntryPoint : class =>
        CreateAsync<TEntryPoint>([], cancellationToken);

    /// <param name="args">Arguments for the AppHost's Main.</param>
    /// <typeparam name="TEntryPoint">A type of the AppHost's assembly, or, as in Aspire, the <c>Projects.*</c> class generated
    /// for a reference to the AppHost project (which must also be referenced as an assembly).</typeparam>
    public static Task<IDistributedApplicationTestingBuilder> CreateAsync<TEntryPoint>(string[] args, CancellationToken cancellationToken = default) where TEntryPoint : class =>
        CreateAsync(typeof(TEntryPoint), args, cancellationToken);

    public static async Task<IDistributedApplicationTestingBuilder> CreateAsync(Type entryPoint, string[] args, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entryPoint);
        var appHost = typeof(IProjectMetadata).IsAssignableFrom(entryPoint)
            ? Assembly.Load(AssemblyName.GetAssemblyName(((IProjectMetadata)Activator.CreateInstance(entryPoint)!).TargetPath))
            : entryPoint.Assembly;
        var main = appHost.EntryPoint
            ?? throw new ArgumentException($"{appHost.GetName().Name} has no entry point: pass a type from the AppHost project.", nameof(entryPoint));
        var session = new CaptureSession(appHost);
        await Task.Run(async () =>
        {
            DistributedApplicationTestingHooks.Current = session;
            try
            {
                var result = main.Invoke(null, main.GetParameters().Length == 0 ? [] : [args]);
                if (result is Task task)
                {
                    await task;
                }
            }
            catch (Exception exception) when (IsCapture(exception))
            {
                // The AppHost's Main stops at Build(): the model is ours now.
            }
            finally
            {
                DistributedApplicationTestingHooks.Current = null;
            }
        }, cancellationToken);

        return session.Builder is { } builder
            ? new TestingBuilder(builder, session.Scratch)
            : throw new InvalidOperationException($"{appHost.GetName().Name}'s Main returned without calling DistributedApplication.CreateBuilder(…).Build().");
    }

    /// <summary>An empty model, for tests that declare their own resources.</summary>
    public static IDistributedApplicationTestingBuilder Create(params string[] args)
    {
        var session = new CaptureSession(Assembly.GetCallingAssembly());
        DistributedApplicationTestingHooks.Current = session;
        try
        {
            return new TestingBuilder((DistributedApplicationBuilder)DistributedApplication.CreateBuilder(args), session.Scratch);
        }
        finally
        {
            DistributedApplicationTestingHooks.Current = null;
        }
    }

    public static HttpClient CreateHttpClient(this DistributedApplication app, string resourceName, string endpointName = "http")
    {
        var client = app.Services.GetRequiredService<IHttpClientFactory>().CreateClient($"testing-{resourceName}");
        client.BaseAddress = app.GetEndpoint(resourceName, endpointName);
        return client;
    }

    public static ValueTask<string?> GetConnectionStringAsync(this DistributedApplication app, string resourceName) =>
        ValueTask.FromResult(app.GetConnectionString(resourceName));

    private static bool IsCapture(Exception exception) =>
        exception is BuilderCapturedException || exception.InnerException is BuilderCapturedException;

    private sealed class CaptureSession(Assembly appHost) : ITestingSession
    {
        public DistributedApplicationBuilder? Builder { get; private set; }

        /// <summary>The temporary data directory this session made, removed with the builder even if a test points the
        /// model elsewhere.</summary>
        public string? Scratch { get; private set; }

        public Assembly? AppHostAssembly => appHost;

        public void OnBuilderCreated(DistributedApplicationBuilder builder)
        {
            Scratch = Directory.CreateTempSubdirectory("cloudscale-apphost-test-").FullName;
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>(StringComparer.Ordinal)
            {
                ["AppHost:EphemeralData"] = "true",
                ["AppHost:DataDirectory"] = Scratch,
            });
        }

        public bool CaptureBuilder(DistributedApplicationBuilder builder)
        {
            Builder = builder;
            return true;
        }
    }

    private sealed class TestingBuilder(DistributedApplicationBuilder inner, string? scratch) : IDistributedApplicationTestingBuilder, IDistributedApplicationBuilderCore
    {
        DistributedApplicationBuilder IDistributedApplicationBuilderCore.Core => inner;

        private DistributedApplication? _app;

        public ConfigurationManager Configuration => inner.Configuration;

        public IHostEnvironment Environment => inner.Environment;

        public IServiceCollection Services => inner.Services;

        public string AppHostDirectory => inner.AppHostDirectory;

        public IReadOnlyList<ApplicationModel.IResource> Resources => inner.Resources;

        public IResourceBuilder<T> AddResource<T>(T resource) where T : ApplicationModel.IResource => inner.AddResource(resource);

        public IResourceBuilder<T> CreateResourceBuilder<T>(T resource) where T : ApplicationModel.IResource => inner.CreateResourceBuilder(resource);

        public DistributedApplication Build() => _app ??= inner.BuildCore();

        public Task<DistributedApplication> BuildAsync(CancellationToken cancellationToken = default) => Task.FromResult(Build());

        public async ValueTask DisposeAsync()
        {
            if (_app is not null)
            {
                await _app.DisposeAsync();
            }

            if (scratch is not null && Directory.Exists(scratch))
            {
                Directory.Delete(scratch, recursive: true);
            }
        }
    }
}
