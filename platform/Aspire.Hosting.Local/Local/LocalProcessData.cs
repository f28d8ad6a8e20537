using Aspire.Hosting.ApplicationModel;

namespace Aspire.Hosting.Local;

/// <summary>
/// Where a server run as a local process keeps its data: <c>.cloudscale/data/&lt;name&gt;</c> under the AppHost (or under
/// <c>AppHost:DataDirectory</c>), kept between runs, or, with <c>AppHost:EphemeralData=true</c>,
/// <c>.cloudscale/ephemeral/&lt;name&gt;</c>, emptied at every start.
/// </summary>
internal static class LocalProcessData
{
    public const string EphemeralDataKey = "AppHost:EphemeralData";
    public const string DataDirectoryKey = "AppHost:DataDirectory";

    public static bool IsEphemeral(IDistributedApplicationBuilder builder) =>
        bool.TryParse(builder.Configuration[EphemeralDataKey], out var ephemeral) && ephemeral;

    public static string DirectoryOf(IDistributedApplicationBuilder builder, string resourceName) =>
        Path.Combine(
            builder.Configuration[DataDirectoryKey] is { Length: > 0 } root ? Path.GetFullPath(root) : Path.Combine(builder.AppHostDirectory, ".cloudscale"),
            IsEphemeral(builder) ? "ephemeral" : "data",
            resourceName);

    /// <summary>Creates the resource's data directory, emptied first when data is ephemeral.</summary>
    public static string Prepare(IDistributedApplicationBuilder builder, string resourceName)
    {
        var directory = DirectoryOf(builder, resourceName);
        if (IsEphemeral(builder) && Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }

        return Directory.CreateDirectory(directory).FullName;
    }

    /// <summary>The first of <paramref name="candidates"/> that exists, or the bare name (so that a missing server fails to
    /// start with the name in the message) and a hint to install it.</summary>
    public static string FindExecutable(string name, params string[] candidates) =>
        candidates.Concat((Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries).Select(dir => Path.Combine(dir, name)))
            .FirstOrDefault(File.Exists) ?? name;

    /// <summary>Replaces a container resource of the model by its local twin under the same name, keeping its parameters.</summary>
    public static IResourceBuilder<T> Replace<T>(IResourceBuilder<IResource> container, T local) where T : IResource
    {
        container.ApplicationBuilder.Resources.Remove(container.Resource);
        return container.ApplicationBuilder.AddResource(local);
    }

    /// <summary>
    /// The resource's connection string once Aspire publishes it (<see cref="ConnectionStringAvailableEvent"/>), for a
    /// health check registered before the app model runs; <paramref name="suffix"/> is appended (e.g. a database).
    /// </summary>
    public static Func<IServiceProvider, string> ConnectionStringOnceAvailable(
        IDistributedApplicationBuilder builder, IResourceWithConnectionString resource, string suffix = "")
    {
        string? connectionString = null;
        builder.Eventing.Subscribe<ConnectionStringAvailableEvent>(resource, async (_, cancellationToken) =>
            connectionString = await resource.ConnectionStringExpression.GetValueAsync(cancellationToken) + suffix);
        return _ => connectionString ?? throw new DistributedApplicationException($"The connection string of '{resource.Name}' is not available yet.");
    }
}
