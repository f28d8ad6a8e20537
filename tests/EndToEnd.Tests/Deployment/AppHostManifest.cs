using System.Diagnostics;
using System.Text.Json.Nodes;

namespace CloudScale.EndToEnd.Tests.Deployment;

internal static class AppHostManifest
{
    /// <summary>Runs the AppHost built beside this test (same configuration) as azd does, and reads what it wrote.</summary>
    public static async Task<JsonObject> PublishAsync(params string[] settings)
    {
        var cancellation = TestContext.Current.CancellationToken;
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
            var stdout = process.StandardOutput.ReadToEndAsync(cancellation);
            var stderr = process.StandardError.ReadToEndAsync(cancellation);
            await process.WaitForExitAsync(cancellation).WaitAsync(TimeSpan.FromSeconds(120), cancellation);
            Assert.True(process.ExitCode == 0, $"The publisher failed ({process.ExitCode}): {await stdout}{await stderr}");
            return JsonNode.Parse(await File.ReadAllTextAsync(manifest, cancellation))!.AsObject();
        }
        finally
        {
            output.Delete(recursive: true);
        }
    }
}
