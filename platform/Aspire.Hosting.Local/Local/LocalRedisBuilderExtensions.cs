using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Dapr;
using Aspire.Hosting.Local;
using Microsoft.Extensions.DependencyInjection;

namespace Aspire.Hosting;

public static class LocalRedisBuilderExtensions
{
    /// <summary>
    /// In run mode, runs this Redis as a local <c>redis-server</c> process instead of a container (these machines have no
    /// container engine), persisting to <c>.cloudscale/data</c> (RDB, <c>save 60 1</c>) unless <c>AppHost:EphemeralData</c>;
    /// in publish mode it stays Aspire's Redis container, which is what the manifest and azd deploy.
    /// </summary>
    public static IResourceBuilder<IResourceWithConnectionString> RunAsLocalProcess(this IResourceBuilder<RedisResource> redis)
    {
        ArgumentNullException.ThrowIfNull(redis);
        var app = redis.ApplicationBuilder;
        if (app.ExecutionContext.IsPublishMode)
        {
            return redis;
        }

        var name = redis.Resource.Name;
        var directory = LocalProcessData.DirectoryOf(app, name);
        var local = LocalProcessData.Replace(redis, new LocalRedisResource(name, redis.Resource.PasswordParameter!, app.AppHostDirectory))
            .WithEndpoint(port: LoopbackPorts.Free(), isProxied: false, name: LocalRedisResource.PrimaryEndpointName, scheme: "tcp")
            .WithEnvironment("REDIS_PASSWORD", redis.Resource.PasswordParameter!)
            .WithIconName("Memory");
        var endpoint = local.Resource.PrimaryEndpoint;
        local.WithArgs(context =>
        {
            // Through the shell, as Aspire's own Redis container does, so that the password is not in the resource's arguments.
            context.Args.Add("-c");
            context.Args.Add(
                $"exec {LocalProcessData.FindExecutable("redis-server", "/usr/bin/redis-server")} --port {endpoint.Port} --bind 127.0.0.1 -::1 " +
                $"--protected-mode yes --dir '{directory}' --save '{(LocalProcessData.IsEphemeral(app) ? "" : "60 1")}' --appendonly no " +
                "--requirepass \"$REDIS_PASSWORD\"");
        });
        app.Eventing.Subscribe<BeforeResourceStartedEvent>(local.Resource, (_, _) =>
        {
            LocalProcessData.Prepare(app, name);
            return Task.CompletedTask;
        });

        // Aspire's own "{name}_check" stays registered for the container this resource replaced.
        var healthCheck = $"{name}_local_check";
        app.Services.AddHealthChecks().AddRedis(LocalProcessData.ConnectionStringOnceAvailable(app, local.Resource), name: healthCheck);
        return local.WithHealthCheck(healthCheck);
    }
}
