using System.Diagnostics;
using System.Reflection;
using System.Security.Cryptography;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;

namespace Aspire.Hosting.Orchestration;

/// <summary>
/// Runs a project or executable as one or more supervised replicas, each on its own target port behind the
/// resource's stable proxied endpoints, with the environment Aspire injects into a project.
/// </summary>
internal sealed class ProcessRunner(ProcessResource process, OrchestrationContext context, IReadOnlyDictionary<string, EndpointProxy> proxies)
    : ResourceRunner(process, context)
{
    private static readonly SemaphoreSlim BuildLock = new(1, 1);

    // DCP starts processes with the AppHost's environment minus these ([A13] DcpHost.cs).
    private static readonly string[] NotInherited = ["ASPNETCORE_URLS", "DOTNET_LAUNCH_PROFILE", "ASPNETCORE_ENVIRONMENT", "DOTNET_ENVIRONMENT"];

    private readonly List<SupervisedProcess> _replicas = [];
    private readonly List<ResourceLog> _logs = [];

    public override int StopOrder => 0;

    public override string? LogFile => _logs.FirstOrDefault()?.Path;

    public override IReadOnlyList<SupervisedProcess> Processes => _replicas;

    private int ReplicaCount => process.Annotations.OfType<ReplicaAnnotation>().LastOrDefault()?.Replicas ?? 1;

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        PublishState(KnownResourceStates.Starting, null);
        if (process is ProjectResource project)
        {
            await EnsureBuiltAsync(project, Context.Builder.AppHostAssembly, cancellationToken);
        }

        var count = ReplicaCount;
        for (var index = 0; index < count; index++)
        {
            var replicaIndex = index;
            var suffix = RandomNumberGenerator.GetString("abcdefghijklmnopqrstuvwxyz", 8);
            var name = count == 1 ? process.Name : $"{process.Name}-{suffix}";
            var log = Context.OpenLog(name);
            _logs.Add(log);
            var backends = new Dictionary<string, ProxyBackend>(StringComparer.Ordinal);
            SupervisedProcess? supervised = null;
            supervised = new SupervisedProcess(
                name,
                () =>
                {
                    backends.Clear();
                    foreach (var endpoint in process.Annotations.OfType<EndpointAnnotation>())
                    {
                        backends[endpoint.Name] = new ProxyBackend(Ports.Free());
                        proxies[endpoint.Name].SetBackend(replicaIndex, backends[endpoint.Name]);
                    }

                    supervised!.TargetPort = backends.Values.FirstOrDefault()?.Port;
                    return DescribeStart(replicaIndex, suffix, backends);
                },
                cancellation => IsHealthyAsync(backends, cancellation),
                "TERM", log, Context.Reaper,
                replica => PublishReplica(replicaIndex, count, replica, _replicas.Sum(r => r.Restarts)));
            _replicas.Add(supervised);
        }

        foreach (var replica in _replicas)
        {
            replica.Start();
        }
    }

    public override async Task StopAsync()
    {
        await Task.WhenAll(_replicas.Select(replica => replica.StopAsync()));
        foreach (var log in _logs)
        {
            log.Dispose();
        }
    }

    private ProcessStartInfo DescribeStart(int replicaIndex, string suffix, Dictionary<string, ProxyBackend> backends)
    {
        var start = process switch
        {
            ProjectResource project => new ProcessStartInfo("dotnet") { WorkingDirectory = Path.GetDirectoryName(project.ProjectPath)!, ArgumentList = { project.TargetPath! } },
            ExecutableResource executable => new ProcessStartInfo(executable.Command) { WorkingDirectory = executable.WorkingDirectory },
            _ => throw new InvalidOperationException($"Cannot run {process.GetType().Name}."),
        };
        foreach (var argument in process.Annotations.OfType<CommandLineArgsAnnotation>().SelectMany(annotation => annotation.Args))
        {
            start.ArgumentList.Add(argument);
        }

        var argumentsContext = new CommandLineArgsCallbackContext(start.ArgumentList, endpointName => backends[endpointName].Port);
        foreach (var callback in process.Annotations.OfType<CommandLineArgsCallbackAnnotation>())
        {
            callback.Callback(argumentsContext);
        }

        foreach (var name in NotInherited)
        {
            start.Environment.Remove(name);
        }

        foreach (var (name, value) in BuildEnvironment(replicaIndex, suffix, backends))
        {
            start.Environment[name] = value;
        }

        return start;
    }

    /// <summary>The variables of reference §1.3, in the order Aspire applies them, then the model's own.</summary>
    private Dictionary<string, string> BuildEnvironment(int replicaIndex, string suffix, Dictionary<string, ProxyBackend> backends)
    {
        var environmentName = Context.Builder.Environment.EnvironmentName;
        var development = Context.Builder.Environment.IsDevelopment();
        var variables = new Dictionary<string, string>(StringComparer.Ordinal);
        if (process is ProjectResource)
        {
            variables["ASPNETCORE_ENVIRONMENT"] = environmentName;
            variables["DOTNET_ENVIRONMENT"] = environmentName;
            variables["OTEL_DOTNET_EXPERIMENTAL_OTLP_EMIT_EXCEPTION_LOG_ATTRIBUTES"] = "true";
            variables["OTEL_DOTNET_EXPERIMENTAL_OTLP_EMIT_EVENT_LOG_ATTRIBUTES"] = "true";
            variables["OTEL_DOTNET_EXPERIMENTAL_OTLP_RETRY"] = "in_memory";
            if (development)
            {
                variables["OTEL_DOTNET_EXPERIMENTAL_ASPNETCORE_DISABLE_URL_QUERY_REDACTION"] = "true";
                variables["OTEL_DOTNET_EXPERIMENTAL_HTTPCLIENT_DISABLE_URL_QUERY_REDACTION"] = "true";
            }
        }

        AddTelemetryVariables(variables, suffix);
        variables["DOTNET_SYSTEM_CONSOLE_ALLOW_ANSI_COLOR_REDIRECTION"] = "true";
        variables["LOGGING__CONSOLE__FORMATTERNAME"] = "simple";

        var endpoints = process.Annotations.OfType<EndpointAnnotation>().ToList();
        var urls = endpoints.Where(endpoint => endpoint.EnvironmentVariable is null)
            .Select(endpoint => $"{endpoint.UriScheme}://localhost:{backends[endpoint.Name].Port}").ToList();
        if (process is ProjectResource && urls.Count > 0)
        {
            variables["ASPNETCORE_URLS"] = string.Join(';', urls);
        }

        foreach (var endpoint in endpoints.Where(endpoint => endpoint.EnvironmentVariable is not null))
        {
            variables[endpoint.EnvironmentVariable!] = backends[endpoint.Name].Port.ToString();
        }

        var callbackContext = new EnvironmentCallbackContext(variables, replicaIndex, environmentName);
        foreach (var callback in process.Annotations.OfType<EnvironmentCallbackAnnotation>())
        {
            callback.Callback(callbackContext);
        }

        return variables;
    }

    /// <summary>OTLP settings, only when the AppHost has somewhere to send telemetry (the dashboard's OTLP/HTTP endpoint).</summary>
    private void AddTelemetryVariables(Dictionary<string, string> variables, string suffix)
    {
        var configuration = Context.Builder.Configuration;
        variables["OTEL_SERVICE_NAME"] = process.Name;
        variables["OTEL_RESOURCE_ATTRIBUTES"] = $"service.instance.id={suffix}";
        var otlpEndpoint = configuration["ASPIRE_DASHBOARD_OTLP_HTTP_ENDPOINT_URL"] ?? configuration["DOTNET_DASHBOARD_OTLP_HTTP_ENDPOINT_URL"];
        if (!string.IsNullOrEmpty(otlpEndpoint))
        {
            variables["OTEL_EXPORTER_OTLP_ENDPOINT"] = otlpEndpoint;
            variables["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf";
            if (configuration["AppHost:OtlpApiKey"] is { Length: > 0 } apiKey)
            {
                variables["OTEL_EXPORTER_OTLP_HEADERS"] = $"x-otlp-api-key={apiKey}";
            }

            if (Context.Builder.Environment.IsDevelopment())
            {
                variables["OTEL_BLRP_SCHEDULE_DELAY"] = "1000";
                variables["OTEL_BSP_SCHEDULE_DELAY"] = "1000";
                variables["OTEL_METRIC_EXPORT_INTERVAL"] = "1000";
                variables["OTEL_TRACES_SAMPLER"] = "always_on";
                variables["OTEL_METRICS_EXEMPLAR_FILTER"] = "trace_based";
            }
        }
    }

    private async Task<bool> IsHealthyAsync(IReadOnlyDictionary<string, ProxyBackend> backends, CancellationToken cancellationToken)
    {
        var check = process.Annotations.OfType<HttpHealthCheckAnnotation>().LastOrDefault();
        bool healthy;
        if (check is null)
        {
            healthy = true;
        }
        else
        {
            var client = Context.HttpClients.CreateClient("apphost-health");
            using var response = await client.GetAsync(new Uri($"http://127.0.0.1:{backends[check.EndpointName].Port}{check.Path}"), cancellationToken);
            healthy = (int)response.StatusCode == check.StatusCode;
        }

        foreach (var backend in backends.Values)
        {
            backend.Healthy = healthy;
        }

        return healthy;
    }

    /// <summary>
    /// Builds a project the AppHost's own build did not (added by path, or its output is missing), once, with the
    /// AppHost's configuration, one build at a time so that shared dependencies are not built concurrently.
    /// </summary>
    private static async Task EnsureBuiltAsync(ProjectResource project, Assembly? appHost, CancellationToken cancellationToken)
    {
        if (project.TargetPath is { } existing && File.Exists(existing))
        {
            return;
        }

        var configuration = appHost?.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
        await BuildLock.WaitAsync(cancellationToken);
        try
        {
            var start = new ProcessStartInfo("dotnet")
            {
                ArgumentList = { "build", project.ProjectPath, "-c", configuration, "-nologo", "-v", "q", "-getProperty:TargetPath" },
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            using var build = Process.Start(start)!;
            var output = await build.StandardOutput.ReadToEndAsync(cancellationToken);
            var errors = await build.StandardError.ReadToEndAsync(cancellationToken);
            await build.WaitForExitAsync(cancellationToken);
            var targetPath = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault();
            if (build.ExitCode != 0 || targetPath is null || !File.Exists(targetPath))
            {
                throw new DistributedApplicationException($"Building {project.ProjectPath} failed:\n{output}{errors}");
            }

            project.TargetPath = targetPath;
        }
        finally
        {
            BuildLock.Release();
        }
    }

}
