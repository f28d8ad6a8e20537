using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace CloudScale.EndToEnd.Tests.Deployment;

/// <summary>
/// Turns the Dapr resources in <c>components/</c> into what Azure Container Apps' managed Dapr takes
/// (<c>infra/dapr.json</c>, read by <c>infra/resources.bicep</c> and the post-deploy hook), so that the YAML stays the one
/// source. Container Apps has no local secret store: a <c>secretKeyRef</c> becomes a component secret whose value
/// resources.bicep supplies. Resiliency: Container Apps takes component policies (inbound/outbound) and app policies
/// (on the called app, which also govern Dapr service invocation), not Dapr's Resiliency resource.
/// </summary>
internal static partial class ContainerAppsDapr
{
    public static JsonObject Generate(string componentsDirectory)
    {
        var documents = Directory.GetFiles(componentsDirectory, "*.yaml").Order(StringComparer.Ordinal).Select(path => YamlDocument.Load(path)).ToList();
        var resiliency = documents.SingleOrDefault(document => YamlDocument.Scalar(document, "kind") == "Resiliency");
        var components = new JsonArray();
        foreach (var component in documents.Where(document => YamlDocument.Scalar(document, "kind") == "Component"))
        {
            var spec = (YamlMappingNode)component.Children["spec"];
            var type = YamlDocument.Scalar(spec, "type");
            if (type.StartsWith("secretstores.", StringComparison.Ordinal))
            {
                continue;
            }

            var name = YamlDocument.Scalar((YamlMappingNode)component.Children["metadata"], "name");
            var metadata = new JsonArray();
            var secrets = new JsonArray();
            foreach (var item in YamlDocument.Sequence(spec, "metadata").Cast<YamlMappingNode>())
            {
                if (item.Children.TryGetValue("secretKeyRef", out var reference))
                {
                    var secret = SecretName(YamlDocument.Scalar((YamlMappingNode)reference, "name"));
                    metadata.Add(new JsonObject { ["name"] = YamlDocument.Scalar(item, "name"), ["secretRef"] = secret });
                    secrets.Add(secret);
                }
                else
                {
                    metadata.Add(new JsonObject { ["name"] = YamlDocument.Scalar(item, "name"), ["value"] = YamlDocument.Scalar(item, "value") });
                }
            }

            components.Add(new JsonObject
            {
                ["name"] = name,
                ["componentType"] = type,
                ["version"] = YamlDocument.Scalar(spec, "version"),
                ["metadata"] = metadata,
                ["secrets"] = secrets,
                ["scopes"] = new JsonArray(YamlDocument.Sequence(component, "scopes").Select(scope => (JsonNode)((YamlScalarNode)scope).Value!).ToArray()),
                ["resiliency"] = resiliency is null ? null : ComponentPolicy(resiliency, name),
            });
        }

        return new JsonObject
        {
            ["$comment"] = "Generated from components/ by tests/EndToEnd.Tests (AzureInfraTests); regenerate with scripts/update-azure-infra.sh.",
            ["components"] = components,
        };
    }

    /// <summary>Container Apps secret names are lower-case letters, digits and dashes.</summary>
    public static string SecretName(string variable) => variable.ToLowerInvariant().Replace('_', '-');

    private static JsonObject? ComponentPolicy(YamlMappingNode resiliency, string component)
    {
        var target = Targets(resiliency, "components").FirstOrDefault(entry => entry.Name == component).Target;
        if (target is null)
        {
            return null;
        }

        var policy = new JsonObject();
        foreach (var direction in new[] { "inbound", "outbound" })
        {
            if (target.Children.TryGetValue(direction, out var directionTarget))
            {
                policy[$"{direction}Policy"] = Policy(resiliency, (YamlMappingNode)directionTarget);
            }
        }

        return policy;
    }

    private static JsonObject Policy(YamlMappingNode resiliency, YamlMappingNode target)
    {
        var policies = (YamlMappingNode)((YamlMappingNode)resiliency.Children["spec"]).Children["policies"];
        YamlNode Named(string kind, string key) =>
            ((YamlMappingNode)policies.Children[kind]).Children[YamlDocument.Scalar(target, key)];

        var policy = new JsonObject();
        if (target.Children.ContainsKey("timeout"))
        {
            policy["timeoutPolicy"] = new JsonObject { ["responseTimeoutInSeconds"] = Seconds(((YamlScalarNode)Named("timeouts", "timeout")).Value!) };
        }

        if (target.Children.ContainsKey("retry"))
        {
            policy["httpRetryPolicy"] = RetryPolicy((YamlMappingNode)Named("retries", "retry"));
        }

        if (target.Children.ContainsKey("circuitBreaker"))
        {
            var breaker = (YamlMappingNode)Named("circuitBreakers", "circuitBreaker");
            var trip = TripExpression().Match(YamlDocument.Scalar(breaker, "trip"));
            if (!trip.Success)
            {
                throw new InvalidOperationException($"Container Apps counts consecutive errors only; cannot express trip '{YamlDocument.Scalar(breaker, "trip")}'.");
            }

            // Dapr opens after more than N consecutive failures; Container Apps after N consecutive errors.
            policy["circuitBreakerPolicy"] = new JsonObject
            {
                ["consecutiveErrors"] = int.Parse(trip.Groups["count"].Value, CultureInfo.InvariantCulture) + 1,
                ["intervalInSeconds"] = Seconds(YamlDocument.Optional(breaker, "interval") ?? "0s"),
                ["timeoutInSeconds"] = Seconds(YamlDocument.Optional(breaker, "timeout") ?? "60s"),
            };
        }

        return policy;
    }

    /// <summary>Component policies retry every failure: Dapr's <c>matching</c> narrows app calls only.</summary>
    private static JsonObject RetryPolicy(YamlMappingNode retry)
    {
        // Dapr's defaults: constant 5 s; exponential from 500 ms up to maxInterval (60 s).
        var constant = YamlDocument.Scalar(retry, "policy") == "constant";
        var initial = constant ? Milliseconds(YamlDocument.Optional(retry, "duration") ?? "5s") : 500;
        var retryPolicy = new JsonObject
        {
            ["maxRetries"] = int.Parse(YamlDocument.Scalar(retry, "maxRetries"), CultureInfo.InvariantCulture),
            ["retryBackOff"] = new JsonObject
            {
                ["initialDelayInMilliseconds"] = initial,
                ["maxIntervalInMilliseconds"] = constant ? initial : Milliseconds(YamlDocument.Optional(retry, "maxInterval") ?? "60s"),
            },
        };
        return retryPolicy;
    }

    private static IEnumerable<(string Name, YamlMappingNode Target)> Targets(YamlMappingNode resiliency, string kind) =>
        ((YamlMappingNode)((YamlMappingNode)resiliency.Children["spec"]).Children["targets"]).Children.TryGetValue(kind, out var targets)
            ? ((YamlMappingNode)targets).Children.Select(entry => (((YamlScalarNode)entry.Key).Value!, (YamlMappingNode)entry.Value))
            : [];

    private static int Seconds(string duration) => Milliseconds(duration) / 1000;

    private static int Milliseconds(string duration)
    {
        var match = GoDuration().Match(duration);
        if (!match.Success)
        {
            throw new InvalidOperationException($"'{duration}' is not a duration this generator reads (e.g. 500ms, 5s, 1m).");
        }

        var value = int.Parse(match.Groups["value"].Value, CultureInfo.InvariantCulture);
        return match.Groups["unit"].Value switch { "ms" => value, "s" => value * 1000, "m" => value * 60_000, _ => value * 3_600_000 };
    }

    [GeneratedRegex(@"^\s*consecutiveFailures\s*>\s*(?<count>\d+)\s*$", RegexOptions.ExplicitCapture, matchTimeoutMilliseconds: 1000)]
    private static partial Regex TripExpression();

    [GeneratedRegex(@"^(?<value>\d+)(?<unit>ms|s|m|h)$", RegexOptions.ExplicitCapture, matchTimeoutMilliseconds: 1000)]
    private static partial Regex GoDuration();
}
