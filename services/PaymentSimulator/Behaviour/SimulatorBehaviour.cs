namespace CloudScale.PaymentSimulator.Behaviour;

/// <summary>
/// How the simulated provider behaves: how long it takes to decide, how often it declines, how often it fails outright.
/// Also the <c>PaymentSimulator</c> configuration section it starts with (<c>PaymentSimulator__ErrorRate</c>, …); what is
/// left out keeps its default.
/// </summary>
internal sealed record SimulatorBehaviour(int LatencyMs = 200, double DeclineRate = 0, double ErrorRate = 0)
{
    public const string SectionName = "PaymentSimulator";
    public const int MaxLatencyMs = 60_000;

    /// <summary>What is wrong with these settings, field by field; empty when they are valid.</summary>
    public Dictionary<string, string[]> Validate()
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (LatencyMs is < 0 or > MaxLatencyMs)
        {
            errors["latencyMs"] = [$"The latency must be between 0 and {MaxLatencyMs} ms."];
        }

        if (!IsRate(DeclineRate))
        {
            errors["declineRate"] = ["The decline rate must be between 0 and 1."];
        }

        if (!IsRate(ErrorRate))
        {
            errors["errorRate"] = ["The error rate must be between 0 and 1."];
        }

        return errors;
    }

    private static bool IsRate(double rate) => rate is >= 0 and <= 1;
}

/// <summary>The behaviour in force; PUT /admin/behaviour replaces it while the simulator runs.</summary>
internal sealed class BehaviourSettings(SimulatorBehaviour initial)
{
    private volatile SimulatorBehaviour _current = initial;

    public SimulatorBehaviour Current
    {
        get => _current;
        set => _current = value;
    }
}
