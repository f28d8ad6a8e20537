using Aspire.Hosting.ApplicationModel;

namespace Aspire.Hosting;

/// <summary>AddRedis, AddPostgres, AddDatabase, AddProject, AddExecutable, AddParameter.</summary>
public static class ResourceExtensions
{
    /// <summary>A real <c>redis-server</c> with a generated password kept between runs.</summary>
    public static IResourceBuilder<RedisResource> AddRedis(this IDistributedApplicationBuilder builder, string name, int? port = null)
    {
        var password = GeneratedPassword(builder, $"{name}-password");
        var redis = builder.AddResource(new RedisResource(name, password));
        redis.Resource.Annotations.Add(new EndpointAnnotation("tcp", "tcp", port));
        return redis;
    }

    /// <summary>A real <c>postgres</c> server (run as the postgres user when the AppHost runs as root), password auth.</summary>
    public static IResourceBuilder<PostgresServerResource> AddPostgres(this IDistributedApplicationBuilder builder, string name, int? port = null)
    {
        var password = GeneratedPassword(builder, $"{name}-password");
        var postgres = builder.AddResource(new PostgresServerResource(name, password));
        postgres.Resource.Annotations.Add(new EndpointAnnotation("tcp", "tcp", port));
        return postgres;
    }

    /// <summary>A database created on the server once it is healthy (if it does not exist yet).</summary>
    public static IResourceBuilder<PostgresDatabaseResource> AddDatabase(this IResourceBuilder<PostgresServerResource> builder, string name, string? databaseName = null)
    {
        var database = new PostgresDatabaseResource(name, databaseName ?? name, builder.Resource);
        builder.Resource.Databases.Add(database);
        return builder.ApplicationBuilder.AddResource(database);
    }

    public static IResourceBuilder<ProjectResource> AddProject<TProject>(this IDistributedApplicationBuilder builder, string name)
        where TProject : IProjectMetadata, new()
    {
        var metadata = new TProject();
        return builder.AddProjectCore(new ProjectResource(name, metadata.ProjectPath, metadata.TargetPath));
    }

    /// <summary>A project by path; the orchestrator builds it once before starting it.</summary>
    public static IResourceBuilder<ProjectResource> AddProject(this IDistributedApplicationBuilder builder, string name, string projectPath) =>
        builder.AddProjectCore(new ProjectResource(name, Path.GetFullPath(projectPath, builder.AppHostDirectory), targetPath: null));

    public static IResourceBuilder<ExecutableResource> AddExecutable(this IDistributedApplicationBuilder builder, string name, string command, string workingDirectory, params string[] args)
    {
        var executable = builder.AddResource(new ExecutableResource(name, command, Path.GetFullPath(workingDirectory, builder.AppHostDirectory)));
        return args.Length == 0 ? executable : executable.WithArgs(args);
    }

    /// <summary>A value from configuration <c>Parameters:{name}</c>; missing values fail at start with the key to set.</summary>
    public static IResourceBuilder<ParameterResource> AddParameter(this IDistributedApplicationBuilder builder, string name, bool secret = false) =>
        builder.AddResource(new ParameterResource(name, () => builder.Configuration[$"Parameters:{name}"]
            ?? throw new DistributedApplicationException($"Parameter '{name}' has no value: set configuration key Parameters:{name} (environment variable Parameters__{name})."), secret));

    public static IResourceBuilder<ParameterResource> AddParameter(this IDistributedApplicationBuilder builder, string name, string value, bool secret = false) =>
        builder.AddResource(new ParameterResource(name, () => value, secret));

    private static IResourceBuilder<ProjectResource> AddProjectCore(this IDistributedApplicationBuilder builder, ProjectResource project)
    {
        if (!File.Exists(project.ProjectPath))
        {
            throw new DistributedApplicationException($"Project file '{project.ProjectPath}' for resource '{project.Name}' does not exist.");
        }

        return builder.AddResource(project).WithHttpEndpoint();
    }

    internal static ParameterResource GeneratedPassword(IDistributedApplicationBuilder builder, string name)
    {
        var secrets = ((IDistributedApplicationBuilderCore)builder).Core.Secrets;
        return builder.AddResource(new ParameterResource(name, () => builder.Configuration[$"Parameters:{name}"] ?? secrets.GetOrCreate(name), secret: true)).Resource;
    }
}
