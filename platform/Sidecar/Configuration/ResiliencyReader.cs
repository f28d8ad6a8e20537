using System.Text.RegularExpressions;

namespace CloudScale.Sidecar.Configuration;

/// <summary>Reads <c>kind: Resiliency</c> documents (policies, then targets that name them) into the policies per target.</summary>
internal static partial class ResiliencyReader
{
    public static ResiliencyDefinition Read(IReadOnlyList<YamlObject> documents)
    {
        var apps = new Dictionary<string, TargetPolicy>(StringComparer.Ordinal);
        var inbound = new Dictionary<string, TargetPolicy>(StringComparer.Ordinal);
        var outbound = new Dictionary<string, TargetPolicy>(StringComparer.Ordinal);
        foreach (var document in documents)
        {
            var spec = document.Object("spec") ?? throw document.Error("spec", "is required");
            var policies = spec.Object("policies");
            var timeouts = new Dictionary<string, TimeSpan>(StringComparer.Ordinal);
            var retries = new Dictionary<string, RetryPolicy>(StringComparer.Ordinal);
            var breakers = new Dictionary<string, CircuitBreakerPolicy>(StringComparer.Ordinal);
            if (policies?.Object("timeouts") is { } timeoutTable)
            {
                foreach (var (name, value) in timeoutTable.StringEntries())
                {
                    timeouts[name] = GoDuration.TryParse(value, out var timeout) && timeout > TimeSpan.Zero
                        ? timeout
                        : throw timeoutTable.Error(name, $"'{value}' is not a positive duration");
                }
            }

            foreach (var (name, retry) in policies?.Object("retries")?.Entries() ?? [])
            {
                retries[name] = ReadRetry(name, retry);
            }

            foreach (var (name, breaker) in policies?.Object("circuitBreakers")?.Entries() ?? [])
            {
                breakers[name] = ReadCircuitBreaker(name, breaker);
            }

            // The docs' sample puts targets beside spec; the Go type has them under spec, which is what daprd reads.
            var targets = spec.Object("targets");
            foreach (var (name, target) in targets?.Object("apps")?.Entries() ?? [])
            {
                apps[name] = ReadTarget(target, timeouts, retries, breakers);
            }

            foreach (var (name, component) in targets?.Object("components")?.Entries() ?? [])
            {
                if (component.Object("inbound") is { } inboundTarget)
                {
                    inbound[name] = ReadTarget(inboundTarget, timeouts, retries, breakers);
                }

                if (component.Object("outbound") is { } outboundTarget)
                {
                    outbound[name] = ReadTarget(outboundTarget, timeouts, retries, breakers);
                }
            }
        }

        return new ResiliencyDefinition(apps, inbound, outbound);
    }

    private static TargetPolicy ReadTarget(
        YamlObject target,
        Dictionary<string, TimeSpan> timeouts,
        Dictionary<string, RetryPolicy> retries,
        Dictionary<string, CircuitBreakerPolicy> breakers)
    {
        TimeSpan? timeout = null;
        if (target.String("timeout") is { } timeoutName)
        {
            // A target may name a policy or give a duration inline.
            timeout = timeouts.TryGetValue(timeoutName, out var named) ? named
                : GoDuration.TryParse(timeoutName, out var inline) ? inline
                : throw target.Error("timeout", $"no timeout policy named '{timeoutName}'");
        }

        var retry = target.String("retry") is { } retryName
            ? retries.GetValueOrDefault(retryName) ?? throw target.Error("retry", $"no retry policy named '{retryName}'")
            : null;
        var breaker = target.String("circuitBreaker") is { } breakerName
            ? breakers.GetValueOrDefault(breakerName) ?? throw target.Error("circuitBreaker", $"no circuit breaker policy named '{breakerName}'")
            : null;
        return new TargetPolicy(timeout, retry, breaker);
    }

    private static RetryPolicy ReadRetry(string name, YamlObject retry)
    {
        var policy = retry.String("policy") ?? "constant";
        if (policy is not ("constant" or "exponential"))
        {
            throw retry.Error("policy", $"'{policy}' is not constant or exponential");
        }

        var matching = retry.Object("matching")?.String("httpStatusCodes") is { } codes ? ParseStatusCodes(retry, codes) : null;
        return new RetryPolicy(
            name,
            policy == "exponential",
            retry.Duration("duration") ?? TimeSpan.FromSeconds(5),
            retry.Duration("maxInterval") ?? TimeSpan.FromSeconds(60),
            retry.Integer("maxRetries") ?? -1,
            matching);
    }

    private static Func<int, bool> ParseStatusCodes(YamlObject retry, string codes)
    {
        var ranges = new List<(int From, int To)>();
        foreach (var part in codes.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var bounds = part.Split('-');
            if (bounds.Length is < 1 or > 2 || !int.TryParse(bounds[0], out var from) || !int.TryParse(bounds[^1], out var to) || from < 100 || to > 599 || from > to)
            {
                throw retry.Error("matching.httpStatusCodes", $"'{part}' is not a status code or range such as 500-599");
            }

            ranges.Add((from, to));
        }

        return status => ranges.Exists(range => status >= range.From && status <= range.To);
    }

    private static CircuitBreakerPolicy ReadCircuitBreaker(string name, YamlObject breaker)
    {
        var trip = breaker.String("trip") ?? "consecutiveFailures > 5";
        var match = TripPattern().Match(trip);
        if (!match.Success)
        {
            throw breaker.Error("trip", $"'{trip}' is not supported: use consecutiveFailures > N (or >= N)");
        }

        var threshold = int.Parse(match.Groups["n"].Value) + (match.Groups["op"].Value == ">" ? 1 : 0);
        return new CircuitBreakerPolicy(
            name,
            breaker.Integer("maxRequests") ?? 1,
            breaker.Duration("interval") ?? TimeSpan.Zero,
            breaker.Duration("timeout") ?? TimeSpan.FromSeconds(60),
            Math.Max(1, threshold));
    }

    [GeneratedRegex(@"^\s*consecutiveFailures\s*(?<op>>=|>)\s*(?<n>[0-9]+)\s*$", RegexOptions.None, matchTimeoutMilliseconds: 1000)]
    private static partial Regex TripPattern();
}
