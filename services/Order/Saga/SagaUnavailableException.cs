namespace CloudScale.Order.Saga;

/// <summary>The sidecar did not answer a call about a saga within <see cref="BookingSagaOptions.SidecarTimeout"/>.</summary>
internal sealed class SagaUnavailableException(TimeSpan timeout, Exception inner)
    : Exception($"The Dapr sidecar did not answer within {timeout.TotalSeconds:0.#} s.", inner);
