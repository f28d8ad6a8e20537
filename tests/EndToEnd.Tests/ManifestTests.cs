using System.Diagnostics;
using System.Text.Json;

namespace CloudScale.EndToEnd.Tests;

/// <summary>
/// The AppHost's publish mode (<c>--publisher manifest</c>), what azd reads: Redis and Postgres as Aspire's containers, the
/// services as projects, each with a <c>dapr.v0</c> sidecar naming its components (reference aspire-contract §2.5, §3).
/// </summary>
public sealed class ManifestTests
{
    private static readonly string[] Databases = ["bookingdb", "orderdb", "notificationdb", "workflowdb"];
    private static readonly string[] Services = ["booking", "order", "notification", "payments"];

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_manifest_holds_containers_projects_and_a_dapr_sidecar_per_service()
    {
        var resources = (await PublishManifestAsync()).GetProperty("resources");
        string TypeOf(string name) => resources.GetProperty(name).GetProperty("type").GetString()!;

        Assert.Equal(("container.v0", "container.v0"), (TypeOf("cache"), TypeOf("postgres")));
        Assert.All(Databases, database =>
            Assert.Equal($"{{postgres.connectionString}};Database={database}", resources.GetProperty(database).GetProperty("connectionString").GetString()));
        Assert.All(Services, service => Assert.Equal("project.v0", TypeOf(service)));
        foreach (var (service, components) in new[] { ("booking", "pubsub,statestore"), ("order", "pubsub,statestore,workflowstore"), ("notification", "pubsub,statestore") })
        {
            var sidecar = resources.GetProperty($"{service}-dapr");
            var dapr = sidecar.GetProperty("dapr");
            Assert.Equal(("dapr.v0", service, service), (sidecar.GetProperty("type").GetString(), dapr.GetProperty("application").GetString(), dapr.GetProperty("appId").GetString()));
            Assert.Equal(components, string.Join(",", dapr.GetProperty("components").EnumerateArray().Select(component => component.GetString())));
        }

        Assert.Equal(("dapr.component.v0", "pubsub"), (TypeOf("pubsub"), resources.GetProperty("pubsub").GetProperty("daprComponent").GetProperty("type").GetString()));
        Assert.Equal(("dapr.component.v0", "state"), (TypeOf("statestore"), resources.GetProperty("statestore").GetProperty("daprComponent").GetProperty("type").GetString()));
        // Nothing of the local run mode leaks into what is deployed.
        Assert.DoesNotContain(resources.EnumerateObject(), resource => resource.Value.GetProperty("type").GetString() == "executable.v0");
    }

    /// <summary>Runs the AppHost built beside this test (same configuration) as azd does, and reads what it wrote.</summary>
    private static async Task<JsonElement> PublishManifestAsync()
    {
        // bin/<configuration>/net10.0/ of this test.
        var configuration = new DirectoryInfo(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory)).Parent!.Name;
        var appHost = Path.Combine(Projects.AppHost.ProjectPath, "bin", configuration, "net10.0", "CloudScale.AppHost.dll");
        var output = Directory.CreateTempSubdirectory("cloudscale-manifest-");
        try
        {
            var manifest = Path.Combine(output.FullName, "aspire-manifest.json");
            var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var argument in new[] { appHost, "--publisher", "manifest", "--output-path", manifest })
            {
                start.ArgumentList.Add(argument);
            }

            using var process = Process.Start(start)!;
            var stdout = process.StandardOutput.ReadToEndAsync(Cancellation);
            var stderr = process.StandardError.ReadToEndAsync(Cancellation);
            await process.WaitForExitAsync(Cancellation).WaitAsync(TimeSpan.FromSeconds(120), Cancellation);
            Assert.True(process.ExitCode == 0, $"The publisher failed ({process.ExitCode}): {await stdout}{await stderr}");
            using var document = JsonDocument.Parse(await File.ReadAllTextAsync(manifest, Cancellation));
            return document.RootElement.Clone();
        }
        finally
        {
            output.Delete(recursive: true);
        }
    }
}
