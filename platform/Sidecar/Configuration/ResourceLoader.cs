using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace CloudScale.Sidecar.Configuration;

/// <summary>
/// Reads the Component, Subscription and Resiliency documents of every <c>--resources-path</c> folder (like daprd:
/// *.yaml and *.yml, not recursive, several documents per file), drops the ones whose <c>scopes</c> exclude this
/// app, resolves <c>secretKeyRef</c>s through the declared secret stores, and validates what it keeps.
/// </summary>
internal static class ResourceLoader
{
    private static readonly HashSet<string> SupportedTypes = new(StringComparer.Ordinal)
    {
        "state.redis", "state.postgresql", "pubsub.redis", "secretstores.local.env",
    };

    public static LoadedResources Load(IReadOnlyList<string> folders, string appId)
    {
        var documents = new List<YamlObject>();
        foreach (var folder in folders)
        {
            if (!Directory.Exists(folder))
            {
                throw new ConfigurationException($"--resources-path '{folder}' is not a directory");
            }

            var files = Directory.EnumerateFiles(folder)
                .Where(file => file.EndsWith(".yaml", StringComparison.Ordinal) || file.EndsWith(".yml", StringComparison.Ordinal))
                .Order(StringComparer.Ordinal);
            foreach (var file in files)
            {
                documents.AddRange(Parse(file));
            }
        }

        var inScope = documents.Where(document => IsInScope(document, appId)).ToList();
        var rawComponents = inScope.Where(document => document.String("kind") == "Component").ToList();

        var secretStores = rawComponents
            .Where(document => document.Object("spec")?.String("type") == "secretstores.local.env")
            .Select(document => ReadComponent(document, appId, secretStores: null))
            .ToDictionary(component => component.Name, StringComparer.Ordinal);

        var components = new List<ComponentDefinition>();
        foreach (var document in rawComponents)
        {
            var component = ReadComponent(document, appId, secretStores);
            if (components.Exists(existing => existing.Name == component.Name))
            {
                throw document.Error("metadata.name", $"a component named '{component.Name}' is already defined");
            }

            components.Add(component);
        }

        var subscriptions = inScope
            .Where(document => document.String("kind") == "Subscription")
            .Select(ReadSubscription)
            .ToList();

        var resiliencyDocuments = inScope.Where(document => document.String("kind") == "Resiliency").ToList();
        var resiliency = ResiliencyReader.Read(resiliencyDocuments);
        return new LoadedResources(components, subscriptions, resiliency);
    }

    private static IEnumerable<YamlObject> Parse(string file)
    {
        var stream = new YamlStream();
        try
        {
            using var reader = File.OpenText(file);
            stream.Load(reader);
        }
        catch (YamlException exception)
        {
            throw new ConfigurationException($"{file}: line {exception.Start.Line}, column {exception.Start.Column}: invalid YAML: {exception.Message}");
        }

        foreach (var document in stream.Documents)
        {
            if (document.RootNode is YamlScalarNode { Value: null or "" })
            {
                continue;
            }

            if (document.RootNode is not YamlMappingNode root)
            {
                throw new ConfigurationException($"{file}: the document must be a mapping with apiVersion, kind, metadata and spec");
            }

            var resource = new YamlObject(file, "", root);
            var kind = resource.String("kind");
            switch (kind)
            {
                case "Component" or "Subscription" or "Resiliency":
                    _ = resource.RequiredString("apiVersion");
                    yield return resource;
                    break;
                case "Configuration" or "HTTPEndpoint":
                    // Other Dapr kinds may share the folder; daprd reads them elsewhere and so do we not at all.
                    break;
                case null:
                    throw resource.Error("kind", "is required");
                default:
                    throw resource.Error("kind", $"'{kind}' is not one of Component, Subscription, Resiliency");
            }
        }
    }

    private static bool IsInScope(YamlObject document, string appId)
    {
        var scopes = document.Strings("scopes");
        return scopes.Count == 0 || scopes.Contains(appId, StringComparer.Ordinal);
    }

    private static ComponentDefinition ReadComponent(YamlObject document, string appId, IReadOnlyDictionary<string, ComponentDefinition>? secretStores)
    {
        var name = document.Object("metadata")?.RequiredString("name") ?? throw document.Error("metadata.name", "is required");
        var spec = document.Object("spec") ?? throw document.Error("spec", "is required");
        var type = spec.RequiredString("type");
        var version = spec.String("version") ?? "v1";
        if (!SupportedTypes.Contains(type))
        {
            throw spec.Error("type", $"'{type}' is not supported (supported: {string.Join(", ", SupportedTypes.Order(StringComparer.Ordinal))})");
        }

        if (type == "state.postgresql" && version != "v2")
        {
            throw spec.Error("version", $"state.postgresql '{version}' is not supported: use v2 (the v2 table layout)");
        }

        if (type != "state.postgresql" && version != "v1")
        {
            throw spec.Error("version", $"'{version}' is not a version of {type}: use v1");
        }

        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var item in spec.Objects("metadata"))
        {
            var key = item.RequiredString("name");
            metadata[key] = item.Object("secretKeyRef") is { } reference
                ? ResolveSecret(document, item, reference, secretStores)
                : item.String("value") ?? "";
        }

        if (metadata.TryGetValue("consumerID", out var consumerId))
        {
            metadata["consumerID"] = consumerId
                .Replace("{appID}", appId, StringComparison.Ordinal)
                .Replace("{namespace}", "default", StringComparison.Ordinal)
                .Replace("{podName}", Environment.MachineName, StringComparison.Ordinal)
                .Replace("{uuid}", Guid.NewGuid().ToString(), StringComparison.Ordinal);
        }

        return new ComponentDefinition(document.File, name, type, version, metadata);
    }

    private static string ResolveSecret(YamlObject document, YamlObject item, YamlObject reference, IReadOnlyDictionary<string, ComponentDefinition>? secretStores)
    {
        if (secretStores is null)
        {
            throw reference.Error("name", "a secret store cannot read its own metadata from a secret");
        }

        var secretName = reference.RequiredString("name");
        var secretKey = reference.String("key") ?? secretName;
        var storeName = document.Object("auth")?.String("secretStore");
        ComponentDefinition store;
        if (storeName is not null)
        {
            store = secretStores.GetValueOrDefault(storeName) ?? throw document.Error("auth.secretStore", $"secret store '{storeName}' is not defined");
        }
        else
        {
            // daprd's standalone default store is "kubernetes", which does not exist here; one local store is unambiguous.
            store = secretStores.Count == 1
                ? secretStores.Values.Single()
                : throw document.Error("auth.secretStore", $"is required to resolve secretKeyRef '{secretName}' ({secretStores.Count} secret stores are defined)");
        }

        // secretstores.local.env returns {name: value}: the key must be the variable name.
        if (secretKey != secretName)
        {
            throw reference.Error("key", $"secret '{secretName}' of {store.Type} '{store.Name}' has only the key '{secretName}'");
        }

        var prefix = store.Get("prefix") ?? "";
        return Environment.GetEnvironmentVariable(prefix + secretName)
            ?? throw item.Error("secretKeyRef", $"environment variable '{prefix + secretName}' (secret store '{store.Name}') is not set");
    }

    private static SubscriptionDefinition ReadSubscription(YamlObject document)
    {
        var apiVersion = document.RequiredString("apiVersion");
        var spec = document.Object("spec") ?? throw document.Error("spec", "is required");
        var pubsub = spec.RequiredString("pubsubname");
        var topic = spec.RequiredString("topic");
        var rules = new List<RouteRule>();
        string? defaultRoute;
        if (apiVersion == "dapr.io/v1alpha1")
        {
            defaultRoute = spec.RequiredString("route");
        }
        else if (apiVersion == "dapr.io/v2alpha1")
        {
            var routes = spec.Object("routes") ?? throw spec.Error("routes", "is required in dapr.io/v2alpha1");
            foreach (var rule in routes.Objects("rules"))
            {
                var match = rule.RequiredString("match");
                var expression = MatchExpression.TryParse(match)
                    ?? throw rule.Error("match", $"'{match}' is not supported: use event.<field> == or != a literal, joined by && or ||");
                rules.Add(new RouteRule(match, expression, rule.RequiredString("path")));
            }

            defaultRoute = routes.String("default");
        }
        else
        {
            throw document.Error("apiVersion", $"'{apiVersion}' is not dapr.io/v2alpha1 or dapr.io/v1alpha1");
        }

        if (rules.Count == 0 && defaultRoute is null)
        {
            throw spec.Error("routes", "has neither rules nor a default route");
        }

        var metadata = spec.Object("metadata")?.StringEntries().ToDictionary(entry => entry.Name, entry => entry.Value, StringComparer.Ordinal)
            ?? new Dictionary<string, string>(StringComparer.Ordinal);
        return new SubscriptionDefinition(pubsub, topic, rules, defaultRoute, spec.String("deadLetterTopic"), metadata, SubscriptionKind.Declarative);
    }
}
