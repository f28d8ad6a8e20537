using System.Diagnostics;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Aspire.Hosting.Orchestration;

/// <summary>
/// Run mode: allocates ports, starts independent resources in parallel and each dependent once what it waits for
/// is healthy, and on shutdown stops everything in reverse order (graceful, then forced).
/// </summary>
internal sealed partial class Orchestrator(
    DistributedApplicationBuilder builder,
    ResourceNotificationService notifications,
    ProcessReaper reaper,
    IHttpClientFactory httpClients,
    ILogger<Orchestrator> logger) : IHostedService, IAsyncDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<ResourceRunner> _runners = [];
    private readonly List<EndpointProxy> _proxies = [];
    private Task _starting = Task.CompletedTask;
    private Task _reporting = Task.CompletedTask;

    public IReadOnlyList<ResourceRunner> Runners => _runners;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var context = new OrchestrationContext(builder, notifications, reaper, httpClients);
        foreach (var resource in builder.Resources)
        {
            AllocateEndpoints(resource);
            ResourceRunner? runner = resource switch
            {
                RedisResource redis => new RedisRunner(redis, context),
                PostgresServerResource postgres => new PostgresRunner(postgres, context),
                PostgresDatabaseResource database => new PostgresDatabaseRunner(database, context),
                ProcessResource process => new ProcessRunner(process, context, ProxiesFor(process)),
                _ => null,
            };
            if (runner is not null)
            {
                _runners.Add(runner);
                _ = notifications.PublishUpdateAsync(resource, snapshot => snapshot with { State = KnownResourceStates.NotStarted });
            }
        }

        DaprSidecarExtensions.WriteNameResolution(builder.Resources, reaper.Directory);
        _reporting = new ConsoleStatusReporter(notifications, _runners, builder).RunAsync(_stopping.Token);
        _starting = Task.WhenAll(_runners.Select(runner => StartWhenReadyAsync(runner, _stopping.Token)));
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        await _starting.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        foreach (var group in _runners.GroupBy(runner => runner.StopOrder).OrderBy(group => group.Key))
        {
            await Task.WhenAll(group.Select(StopQuietlyAsync));
        }

        foreach (var proxy in _proxies)
        {
            await proxy.DisposeAsync();
        }

        await _reporting.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        reaper.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stopping.IsCancellationRequested)
        {
            await StopAsync(CancellationToken.None);
        }

        _stopping.Dispose();
    }

    private async Task StartWhenReadyAsync(ResourceRunner runner, CancellationToken cancellationToken)
    {
        var resource = runner.Resource;
        try
        {
            var dependencies = WaitsOf(resource).ToList();
            if (dependencies.Count > 0)
            {
                await notifications.PublishUpdateAsync(resource, snapshot => snapshot with { State = KnownResourceStates.Waiting });
                await Task.WhenAll(dependencies.Select(dependency => notifications.WaitForResourceHealthyAsync(dependency.Name, cancellationToken)));
            }

            await runner.StartAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopped before it could start.
        }
        catch (Exception exception) when (exception is DistributedApplicationException or IOException or System.ComponentModel.Win32Exception or Npgsql.NpgsqlException)
        {
            LogFailedToStart(logger, resource.Name, exception.Message);
            var state = exception is MissingPrerequisiteException ? KnownResourceStates.RuntimeUnhealthy : KnownResourceStates.FailedToStart;
            await notifications.PublishUpdateAsync(resource, snapshot => snapshot with { State = state, Message = exception.Message });
        }
    }

    /// <summary>A resource waits for what it declares and for what its parent waits for (a sidecar for its app's dependencies).</summary>
    private static IEnumerable<IResource> WaitsOf(IResource resource) =>
        resource.Annotations.OfType<WaitAnnotation>().Select(wait => wait.Dependency)
            .Concat(resource is IResourceWithParent child ? WaitsOf(child.Parent) : []);

    private async Task StopQuietlyAsync(ResourceRunner runner)
    {
        try
        {
            await runner.StopAsync();
        }
        catch (Exception exception) when (exception is IOException or InvalidOperationException or TimeoutException)
        {
            LogStopFailed(logger, runner.Resource.Name, exception.Message);
        }
    }

    private static void AllocateEndpoints(IResource resource)
    {
        foreach (var endpoint in resource.Annotations.OfType<EndpointAnnotation>().Where(_ => resource is not ProcessResource))
        {
            endpoint.Port = endpoint.RequestedPort ?? Ports.Free();
        }

        switch (resource)
        {
            case RedisResource redis:
                redis.Port = resource.Annotations.OfType<EndpointAnnotation>().First().Port;
                break;
            case PostgresServerResource postgres:
                postgres.Port = resource.Annotations.OfType<EndpointAnnotation>().First().Port;
                break;
        }
    }

    private Dictionary<string, EndpointProxy> ProxiesFor(ProcessResource process)
    {
        var proxies = new Dictionary<string, EndpointProxy>(StringComparer.Ordinal);
        foreach (var endpoint in process.Annotations.OfType<EndpointAnnotation>())
        {
            // Bound now, before anything starts, so that the URLs handed out in references never change.
            var proxy = EndpointProxy.Bind(endpoint.RequestedPort);
            endpoint.Port = proxy.Port;
            proxy.Start();
            _proxies.Add(proxy);
            proxies[endpoint.Name] = proxy;
        }

        return proxies;
    }


    [LoggerMessage(Level = LogLevel.Error, Message = "Resource {Resource} failed to start: {Reason}")]
    private static partial void LogFailedToStart(ILogger logger, string resource, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stopping {Resource} failed: {Reason}")]
    private static partial void LogStopFailed(ILogger logger, string resource, string reason);
}
