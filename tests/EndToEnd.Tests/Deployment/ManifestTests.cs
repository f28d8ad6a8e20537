using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Json.Schema;

namespace CloudScale.EndToEnd.Tests.Deployment;

/// <summary>
/// The AppHost's publish mode (<c>--publisher manifest</c>), what azd reads (reference aspire-contract §2.5, §3, §4):
/// valid against Aspire's manifest schema, only resource types azd deploys, Redis and Postgres as containers with
/// volumes, the services as projects each with a <c>dapr.v0</c> sidecar naming existing components, every reference
/// resolving, and the payment simulator left out unless asked for.
/// </summary>
public sealed partial class ManifestTests
{
    private static readonly string[] Databases = ["bookingdb", "orderdb", "notificationdb", "workflowdb"];

    // azd's pkg/apphost/generate.go maps these; any other type fails `azd up` with "unsupported resource type".
    private static readonly HashSet<string> TypesAzdDeploys =
    [
        "container.v0", "container.v1", "dockerfile.v0", "project.v0", "project.v1", "parameter.v0", "value.v0",
        "annotated.string", "azure.bicep.v0", "azure.bicep.v1", "dapr.v0", "dapr.component.v0",
    ];

    [Fact]
    public async Task The_manifest_is_valid_against_Aspires_schema()
    {
        var manifest = await AppHostManifest.PublishAsync();
        var schema = JsonSchema.FromText(await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "Deployment", "aspire-8.0.v9.5.2.schema.json"), Cancellation));
        var result = schema.Evaluate(JsonSerializer.SerializeToElement(ForSchema(manifest)), new EvaluationOptions { OutputFormat = OutputFormat.List });

        Assert.True(result.IsValid, string.Join("\n", (result.Details ?? []).Where(detail => detail.Errors is { Count: > 0 })
            .SelectMany(detail => detail.Errors!.Select(error => $"{detail.InstanceLocation}: {error.Value}"))));
    }

    [Fact]
    public async Task The_manifest_holds_containers_with_volumes_projects_and_a_dapr_sidecar_per_service()
    {
        var resources = (await AppHostManifest.PublishAsync())["resources"]!.AsObject();
        string TypeOf(string name) => resources[name]!["type"]!.GetValue<string>();

        Assert.Equal(("container.v0", "container.v0"), (TypeOf("cache"), TypeOf("postgres")));
        Assert.Equal("/data", resources["cache"]!["volumes"]![0]!["target"]!.GetValue<string>());
        Assert.Equal("/var/lib/postgresql", resources["postgres"]!["volumes"]![0]!["target"]!.GetValue<string>());
        Assert.All(Databases, database =>
            Assert.Equal($"{{postgres.connectionString}};Database={database}", resources[database]!["connectionString"]!.GetValue<string>()));
        foreach (var (service, components) in new[] { ("booking", "pubsub,statestore"), ("order", "pubsub,statestore,workflowstore"), ("notification", "pubsub,statestore") })
        {
            Assert.Equal("project.v0", TypeOf(service));
            var dapr = resources[$"{service}-dapr"]!["dapr"]!;
            Assert.Equal(("dapr.v0", service, service), (TypeOf($"{service}-dapr"), dapr["application"]!.GetValue<string>(), dapr["appId"]!.GetValue<string>()));
            Assert.Equal(components, string.Join(",", dapr["components"]!.AsArray().Select(component => component!.GetValue<string>())));
        }

        Assert.Equal(("dapr.component.v0", "pubsub"), (TypeOf("pubsub"), resources["pubsub"]!["daprComponent"]!["type"]!.GetValue<string>()));
        Assert.Equal(("dapr.component.v0", "state"), (TypeOf("statestore"), resources["statestore"]!["daprComponent"]!["type"]!.GetValue<string>()));
        // Order is the one public API (users' orders, the payment provider's callback); nothing else is reachable from outside.
        Assert.Equal("order", string.Join(",", resources.Where(resource => resource.Value!["bindings"] is JsonObject bindings
            && bindings.Any(binding => binding.Value!["external"]?.GetValue<bool>() == true)).Select(resource => resource.Key)));
        Assert.All(resources["order"]!["bindings"]!.AsObject(), binding => Assert.True(binding.Value!["external"]?.GetValue<bool>()));
    }

    [Fact]
    public async Task Only_resource_types_azd_deploys_appear_and_every_reference_resolves()
    {
        var resources = (await AppHostManifest.PublishAsync())["resources"]!.AsObject();

        Assert.All(resources, resource => Assert.Contains(resource.Value!["type"]!.GetValue<string>(), TypesAzdDeploys));
        foreach (var (name, resource) in resources)
        {
            foreach (var reference in References(resource!))
            {
                Assert.True(resources.ContainsKey(reference), $"'{name}' refers to '{reference}', which the manifest lacks.");
            }
        }

        foreach (var sidecar in resources.Where(resource => resource.Value!["type"]!.GetValue<string>() == "dapr.v0"))
        {
            var dapr = sidecar.Value!["dapr"]!;
            Assert.Equal("project.v0", resources[dapr["application"]!.GetValue<string>()]?["type"]?.GetValue<string>());
            Assert.All(dapr["components"]!.AsArray(), component =>
                Assert.Equal("dapr.component.v0", resources[component!.GetValue<string>()]?["type"]?.GetValue<string>()));
        }
    }

    [Fact]
    public async Task The_payment_simulator_is_deployed_only_when_asked()
    {
        var production = (await AppHostManifest.PublishAsync())["resources"]!.AsObject();
        var withSimulator = (await AppHostManifest.PublishAsync("--AppHost:DeployPaymentSimulator=true"))["resources"]!.AsObject();

        Assert.False(production.ContainsKey("payments"));
        Assert.Equal(("parameter.v0", "{payment-provider-url.value}"),
            (production["payment-provider-url"]!["type"]!.GetValue<string>(), production["order"]!["env"]!["services__payments__http__0"]!.GetValue<string>()));
        Assert.Equal("project.v0", withSimulator["payments"]!["type"]!.GetValue<string>());
        Assert.Equal("{payments.bindings.http.url}", withSimulator["order"]!["env"]!["services__payments__http__0"]!.GetValue<string>());
        Assert.False(withSimulator.ContainsKey("payment-provider-url"));
    }

    private static IEnumerable<string> References(JsonNode node) => node switch
    {
        JsonObject obj => obj.SelectMany(property => property.Value is null ? [] : References(property.Value)),
        JsonArray array => array.SelectMany(item => item is null ? [] : References(item)),
        JsonValue value when value.TryGetValue<string>(out var text) => Reference().Matches(text).Select(match => match.Groups["resource"].Value),
        _ => [],
    };

    /// <summary>
    /// Aspire 13 writes the <c>redis</c> scheme for Redis endpoints, newer than the 9.5 schema's scheme list (azd reads the
    /// scheme as free text); validated as <c>tcp</c>, everything else as written.
    /// </summary>
    private static JsonNode ForSchema(JsonObject manifest)
    {
        var copy = manifest.DeepClone();
        foreach (var resource in copy["resources"]!.AsObject())
        {
            foreach (var binding in (resource.Value!["bindings"] as JsonObject ?? []).Where(binding => binding.Value!["scheme"]?.GetValue<string>() == "redis"))
            {
                binding.Value!["scheme"] = "tcp";
            }
        }

        return copy;
    }

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [GeneratedRegex(@"\{(?<resource>[A-Za-z0-9-]+)\.(connectionString|bindings|value|inputs)", RegexOptions.ExplicitCapture, matchTimeoutMilliseconds: 1000)]
    private static partial Regex Reference();
}
