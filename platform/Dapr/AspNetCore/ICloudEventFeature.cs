using System.Text.Json;

namespace Dapr;

/// <summary>The whole CloudEvent of a request that <c>UseCloudEvents()</c> unwrapped: <c>id</c>, <c>type</c>, <c>source</c>, <c>traceparent</c>, … as received.</summary>
public interface ICloudEventFeature
{
    JsonElement Envelope { get; }
}

internal sealed record CloudEventFeature(JsonElement Envelope) : ICloudEventFeature;
