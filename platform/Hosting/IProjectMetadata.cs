namespace Aspire.Hosting;

/// <summary>
/// Implemented by the <c>Projects.*</c> classes generated for the AppHost's project references
/// (see build/CloudScale.AppHost.targets), as Aspire's MSBuild integration does.
/// </summary>
public interface IProjectMetadata
{
    string ProjectPath { get; }

    /// <summary>The assembly the AppHost's build produced for the project, so run mode needs no second build.</summary>
    string TargetPath { get; }
}
