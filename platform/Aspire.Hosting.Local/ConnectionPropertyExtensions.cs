using Aspire.Hosting.ApplicationModel;

namespace Aspire.Hosting;

public static class ConnectionPropertyExtensions
{
    /// <summary>One of Aspire 13's connection properties of a resource (<c>Host</c>, <c>Port</c>, <c>Password</c>, …).</summary>
    public static ReferenceExpression Property(this IResourceBuilder<IResourceWithConnectionString> resource, string name)
    {
        ArgumentNullException.ThrowIfNull(resource);
        return resource.Resource.GetConnectionProperties().FirstOrDefault(property => property.Key == name).Value
            ?? throw new ArgumentException($"'{resource.Resource.Name}' has no connection property '{name}'.", nameof(name));
    }
}
