namespace CloudScale.Dapr.Tests.Support;

/// <summary>Clients of a <see cref="DaprSidecar"/>, built as services build theirs.</summary>
public static class DaprSidecarClients
{
    /// <summary>A client of <paramref name="sidecar"/> with <paramref name="apiToken"/> as its DAPR_API_TOKEN.</summary>
    public static DaprClient CreateClient(this DaprSidecar sidecar, string? apiToken = null) =>
        new DaprClientBuilder().UseHttpEndpoint(sidecar.HttpEndpoint.ToString()).UseDaprApiToken(apiToken).Build();
}
