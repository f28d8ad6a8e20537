namespace Aspire.Hosting.ApplicationModel;

/// <summary>Marker for the metadata attached to a resource by its builder methods.</summary>
public interface IResourceAnnotation;

public interface IResource
{
    string Name { get; }

    IList<IResourceAnnotation> Annotations { get; }
}

public interface IResourceWithConnectionString : IResource
{
    /// <summary>Available once ports and secrets are allocated, which happens before anything starts.</summary>
    string ConnectionString { get; }
}

public interface IResourceWithEndpoints : IResource;

public interface IResourceWithServiceDiscovery : IResourceWithEndpoints;

public interface IResourceWithEnvironment : IResource;

public interface IResourceWithArgs : IResource;

public interface IResourceWithWaitSupport : IResource;

public interface IResourceWithParent : IResource
{
    IResource Parent { get; }
}

public abstract class Resource(string name) : IResource
{
    public string Name { get; } = ResourceNames.Validate(name);

    public IList<IResourceAnnotation> Annotations { get; } = [];

    public override string ToString() => Name;
}

/// <summary>Something Aspire runs as a process: a project or an executable.</summary>
public abstract class ProcessResource(string name) : Resource(name),
    IResourceWithEnvironment, IResourceWithArgs, IResourceWithServiceDiscovery, IResourceWithWaitSupport;

/// <summary>A .NET project run from its build output (<c>dotnet &lt;TargetPath&gt;</c>), as DCP runs one with --no-build.</summary>
public sealed class ProjectResource(string name, string projectPath, string? targetPath) : ProcessResource(name)
{
    public string ProjectPath { get; } = projectPath;

    /// <summary>The built assembly; null when the orchestrator must build the project first.</summary>
    public string? TargetPath { get; internal set; } = targetPath;
}

public class ExecutableResource(string name, string command, string workingDirectory) : ProcessResource(name)
{
    public string Command { get; } = command;

    public string WorkingDirectory { get; } = workingDirectory;
}

public sealed class ParameterResource(string name, Func<string> value, bool secret) : Resource(name)
{
    private readonly Lazy<string> _value = new(value);

    public bool Secret { get; } = secret;

    public string Value => _value.Value;
}

public sealed class RedisResource(string name, ParameterResource password) : Resource(name),
    IResourceWithConnectionString, IResourceWithWaitSupport, IResourceWithEndpoints
{
    public ParameterResource Password { get; } = password;

    public int Port { get; internal set; }

    /// <summary>Aspire's run-mode format since 9.2: <c>{host}:{port},password={password}</c>.</summary>
    public string ConnectionString => $"localhost:{Port},password={Password.Value}";
}

public sealed class PostgresServerResource(string name, ParameterResource password) : Resource(name),
    IResourceWithConnectionString, IResourceWithWaitSupport, IResourceWithEndpoints
{
    public ParameterResource Password { get; } = password;

    public string UserName { get; } = "postgres";

    public int Port { get; internal set; }

    public IList<PostgresDatabaseResource> Databases { get; } = [];

    public string ConnectionString => $"Host=localhost;Port={Port};Username={UserName};Password={Password.Value}";
}

public sealed class PostgresDatabaseResource(string name, string databaseName, PostgresServerResource parent) : Resource(name),
    IResourceWithConnectionString, IResourceWithWaitSupport, IResourceWithParent
{
    public string DatabaseName { get; } = databaseName;

    public PostgresServerResource Server { get; } = parent;

    public IResource Parent => Server;

    public string ConnectionString => $"{Server.ConnectionString};Database={DatabaseName}";
}

public static class ResourceNames
{
    /// <summary>Aspire's rule: ASCII letters, digits and hyphens, starting with a letter, no double or trailing hyphen.</summary>
    public static string Validate(string name)
    {
        var valid = name.Length is > 0 and <= 64 && char.IsAsciiLetter(name[0]) && !name.EndsWith('-') &&
            !name.Contains("--", StringComparison.Ordinal) && name.All(c => char.IsAsciiLetterOrDigit(c) || c == '-');
        return valid
            ? name
            : throw new ArgumentException($"Resource name '{name}' is invalid: use ASCII letters, digits and single hyphens, starting with a letter.", nameof(name));
    }
}
