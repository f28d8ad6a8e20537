using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace CloudScale.EndToEnd.Tests.Deployment;

/// <summary>
/// What `azd up` reads besides the manifest (azure.yaml, infra/, AppHost/infra/*.tmpl.yaml) agrees with the manifest and
/// with components/. What only Azure can check (that Azure accepts the bicep and the components run) is listed in the
/// README's Deploy section.
/// </summary>
public sealed partial class AzureInfraTests
{
    private static readonly string Root = Path.GetFullPath(Path.Combine(Projects.AppHost.ProjectPath, ".."));

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Infra_dapr_json_is_generated_from_components()
    {
        var path = Path.Combine(Root, "infra", "dapr.json");
        var expected = ContainerAppsDapr.Generate(Path.Combine(Root, "components")).ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n";
        if (Environment.GetEnvironmentVariable("CLOUDSCALE_UPDATE_INFRA") == "1")
        {
            await File.WriteAllTextAsync(path, expected, Cancellation);
        }

        Assert.True(File.Exists(path) && await File.ReadAllTextAsync(path, Cancellation) == expected,
            "infra/dapr.json is not what components/ gives: run scripts/update-azure-infra.sh and commit the result.");
    }

    [Fact]
    public async Task Every_component_secret_has_a_value_in_resources_bicep_and_the_workflow_store_keeps_its_metadata()
    {
        var dapr = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(Root, "infra", "dapr.json"), Cancellation))!;
        var bicep = await File.ReadAllTextAsync(Path.Combine(Root, "infra", "resources.bicep"), Cancellation);
        var block = bicep[bicep.IndexOf("var componentSecrets = {", StringComparison.Ordinal)..];
        var secretValues = SecretValue().Matches(block[..block.IndexOf("\n}", StringComparison.Ordinal)]).Select(match => match.Groups["name"].Value).ToHashSet(StringComparer.Ordinal);
        var components = dapr["components"]!.AsArray();

        Assert.Equal("pubsub,statestore,workflowstore", string.Join(",", components.Select(component => component!["name"]!.GetValue<string>()).Order(StringComparer.Ordinal)));
        Assert.All(components.SelectMany(component => component!["secrets"]!.AsArray()), secret => Assert.Contains(secret!.GetValue<string>(), secretValues));
        var workflowStore = components.Single(component => component!["name"]!.GetValue<string>() == "workflowstore")!;
        Assert.Equal(("state.postgresql", "order"), (workflowStore["componentType"]!.GetValue<string>(), workflowStore["scopes"]![0]!.GetValue<string>()));
        Assert.Contains(workflowStore["metadata"]!.AsArray(), item => item!["name"]!.GetValue<string>() == "actorStateStore" && item["value"]?.GetValue<string>() == "true");
        var pubsubRetry = components.Single(component => component!["name"]!.GetValue<string>() == "pubsub")!["resiliency"]!["inboundPolicy"]!["httpRetryPolicy"]!;
        Assert.Equal((5, 2000), (pubsubRetry["maxRetries"]!.GetValue<int>(), pubsubRetry["retryBackOff"]!["initialDelayInMilliseconds"]!.GetValue<int>()));
    }

    [Fact]
    public void Azure_yaml_is_azds_aspire_form()
    {
        var app = (YamlMappingNode)((YamlMappingNode)YamlDocument.Load(Path.Combine(Root, "azure.yaml")).Children["services"]).Children["app"];

        Assert.Equal(("dotnet", "./AppHost/AppHost.csproj", "containerapp"), (YamlDocument.Scalar(app, "language"), YamlDocument.Scalar(app, "project"), YamlDocument.Scalar(app, "host")));
        Assert.True(File.Exists(Path.Combine(Root, YamlDocument.Scalar(app, "project"))));
    }

    [Fact]
    public async Task Every_deployed_resource_has_a_template_that_matches_the_manifest()
    {
        var resources = (await AppHostManifest.PublishAsync("--AppHost:DeployPaymentSimulator=true"))["resources"]!.AsObject();
        var deployed = resources.Where(resource => resource.Value!["type"]!.GetValue<string>() is "project.v0" or "container.v0").ToList();

        Assert.Equal(
            deployed.Select(resource => resource.Key).Order(StringComparer.Ordinal),
            Directory.GetFiles(Path.Combine(Root, "AppHost", "infra"), "*.tmpl.yaml").Select(path => Path.GetFileName(path)[..^".tmpl.yaml".Length]).Order(StringComparer.Ordinal));
        foreach (var (name, resource) in deployed)
        {
            var template = LoadTemplate(name);
            var configuration = (YamlMappingNode)((YamlMappingNode)template.Children["properties"]).Children["configuration"];
            var container = (YamlMappingNode)((YamlSequenceNode)((YamlMappingNode)((YamlMappingNode)template.Children["properties"]).Children["template"]).Children["containers"]).Children.Single();
            var envNames = ((YamlSequenceNode)container.Children["env"]).Children.Cast<YamlMappingNode>().Select(entry => YamlDocument.Scalar(entry, "name")).ToHashSet(StringComparer.Ordinal);

            var sidecar = resources.SingleOrDefault(entry => entry.Value!["dapr"]?["application"]?.GetValue<string>() == name).Value;
            Assert.Equal(sidecar?["dapr"]!["appId"]!.GetValue<string>(), configuration.Children.TryGetValue("dapr", out var dapr) ? YamlDocument.Scalar((YamlMappingNode)dapr, "appId") : null);

            var external = (resource!["bindings"] as JsonObject ?? []).Any(binding => binding.Value!["external"]?.GetValue<bool>() == true);
            Assert.Equal(external ? "true" : "false", YamlDocument.Scalar((YamlMappingNode)configuration.Children["ingress"], "external"));

            // What the services read: connection strings, service discovery and their own settings.
            var settings = (resource["env"] as JsonObject ?? []).Select(entry => entry.Key).Where(key => ServiceSetting().IsMatch(key));
            Assert.All(settings, setting => Assert.Contains(setting, envNames));

            if (resource["type"]!.GetValue<string>() == "project.v0")
            {
                var probes = ((YamlSequenceNode)container.Children["probes"]).Children.Cast<YamlMappingNode>()
                    .ToDictionary(probe => YamlDocument.Scalar(probe, "type"), probe => YamlDocument.Scalar((YamlMappingNode)probe.Children["httpGet"], "path"), StringComparer.Ordinal);
                Assert.Equal(("/alive", "/health"), (probes["Liveness"], probes["Readiness"]));
            }

            foreach (var volume in (resource["volumes"] as JsonArray ?? []).Select(volume => volume!["target"]!.GetValue<string>()))
            {
                var mounts = ((YamlSequenceNode)container.Children["volumeMounts"]).Children.Cast<YamlMappingNode>().Select(mount => YamlDocument.Scalar(mount, "mountPath"));
                Assert.Contains(volume, mounts, StringComparer.Ordinal);
            }
        }

        var postgresArgs = string.Join(" ", File.ReadAllLines(Path.Combine(Root, "AppHost", "infra", "postgres.tmpl.yaml")));
        Assert.All(resources.Where(resource => resource.Value!["connectionString"]?.GetValue<string>()?.StartsWith("{postgres.connectionString};Database=", StringComparison.Ordinal) == true),
            database => Assert.Contains($" {database.Key}", postgresArgs, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Templates_use_only_what_main_bicep_outputs_and_declares()
    {
        var main = await File.ReadAllTextAsync(Path.Combine(Root, "infra", "main.bicep"), Cancellation);
        var outputs = BicepOutput().Matches(main).Select(match => match.Groups["name"].Value).ToHashSet(StringComparer.Ordinal);
        var parameters = BicepParam().Matches(main).Select(match => match.Groups["name"].Value).ToHashSet(StringComparer.Ordinal);
        var parameterFile = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(Root, "infra", "main.parameters.json"), Cancellation))!["parameters"]!.AsObject();

        Assert.All(parameters, parameter => Assert.True(parameterFile.ContainsKey(parameter), $"main.parameters.json lacks '{parameter}'."));
        foreach (var path in Directory.GetFiles(Path.Combine(Root, "AppHost", "infra"), "*.tmpl.yaml"))
        {
            var text = await File.ReadAllTextAsync(path, Cancellation);
            Assert.All(EnvReference().Matches(text).Select(match => match.Groups["name"].Value).Where(name => name != "AZURE_LOCATION"),
                name => Assert.True(outputs.Contains(name), $"{Path.GetFileName(path)} reads .Env.{name}, which main.bicep does not output."));
            Assert.All(SecuredParameter().Matches(text).Select(match => match.Groups["name"].Value),
                name => Assert.True(parameters.Contains(name), $"{Path.GetFileName(path)} reads parameter '{name}', which main.bicep does not declare."));
        }
    }

    /// <summary>azd renders the Go template before Container Apps reads the YAML: every action becomes a plain value here.</summary>
    private static YamlMappingNode LoadTemplate(string name) =>
        YamlDocument.Load(Path.Combine(Root, "AppHost", "infra", $"{name}.tmpl.yaml"), text => TemplateAction().Replace(text, "rendered"));

    [GeneratedRegex(@"^(ConnectionStrings__|BookingSaga__|services__[a-z]+__http__0$)", RegexOptions.ExplicitCapture, matchTimeoutMilliseconds: 1000)]
    private static partial Regex ServiceSetting();

    [GeneratedRegex(@"\{\{.*?\}\}", RegexOptions.ExplicitCapture, matchTimeoutMilliseconds: 1000)]
    private static partial Regex TemplateAction();

    [GeneratedRegex(@"\.Env\.(?<name>[A-Z0-9_]+)", RegexOptions.ExplicitCapture, matchTimeoutMilliseconds: 1000)]
    private static partial Regex EnvReference();

    [GeneratedRegex(@"securedParameter ""(?<name>[A-Za-z0-9_]+)""", RegexOptions.ExplicitCapture, matchTimeoutMilliseconds: 1000)]
    private static partial Regex SecuredParameter();

    [GeneratedRegex(@"^output (?<name>[A-Z0-9_]+) ", RegexOptions.ExplicitCapture | RegexOptions.Multiline, matchTimeoutMilliseconds: 1000)]
    private static partial Regex BicepOutput();

    [GeneratedRegex(@"^param (?<name>[A-Za-z0-9_]+) ", RegexOptions.ExplicitCapture | RegexOptions.Multiline, matchTimeoutMilliseconds: 1000)]
    private static partial Regex BicepParam();

    [GeneratedRegex(@"^\s+'(?<name>[a-z0-9-]+)': ", RegexOptions.ExplicitCapture | RegexOptions.Multiline, matchTimeoutMilliseconds: 1000)]
    private static partial Regex SecretValue();
}
