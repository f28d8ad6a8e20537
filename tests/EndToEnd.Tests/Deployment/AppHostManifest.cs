using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json.Nodes;

namespace CloudScale.EndToEnd.Tests.Deployment;

internal static class AppHostManifest
{
    /// <summary>One publisher run per set of settings for all the tests of this assembly (each run takes seconds).</summary>
    private static readonly ConcurrentDictionary<string, Lazy<Task<JsonObject>>> Published = new(StringComparer.Ordinal);

    /// <summary>The manifest the AppHost writes with <paramref name="settings"/>: a copy the caller may change.</summary>
    public static async Task<JsonObject> PublishAsync(params string[] settings)
    {
        var published = Published.GetOrAdd(string.Join(' ', settings), _ => new Lazy<Task<JsonObject>>(() => RunPublisherAsync(settings)));
        return (JsonObject)(await published.Value.WaitAsync(TestContext.Current.CancellationToken)).DeepClone();
    }

    /// <summary>Runs the AppHost built beside this test (same configuration) as azd does, and reads what it wrote.</summary>
    private static async Task<JsonObject> RunPublisherAsync(string[] settings)
    {
        // bin/<configuration>/net10.0/ of this test.
        var configuration = new DirectoryInfo(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory)).Parent!.Name;
        var appHost = Path.Combine(Projects.AppHost.ProjectPath, "bin", configuration, "net10.0", "CloudScale.AppHost.dll");
        var output = Directory.CreateTempSubdirectory("cloudscale-manifest-");
        try
        {
            var manifest = Path.Combine(output.FullName, "aspire-manifest.json");
            var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var argument in new[] { appHost, "--publisher", "manifest", "--output-path", manifest }.Concat(settings))
            {
                start.ArgumentList.Add(argument);
            }

            using var process = Process.Start(start)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            // Shared by tests: bounded by its own deadline, not by whichever test asked first.
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(120));
            if (process.ExitCode != 0)
            {
                throw new InvalidOperationException($"The publisher failed ({process.ExitCode}): {await stdout}{await stderr}");
            }

            return JsonNode.Parse(await File.ReadAllTextAsync(manifest))!.AsObject();
        }
        finally
        {
            output.Delete(recursive: true);
        }
    }
}
