namespace CloudScale.Sidecar.Api;

/// <summary>What healthz reports: components loaded (outbound ready), and the app channel up with subscriptions read.</summary>
internal sealed class Readiness
{
    private volatile bool _componentsReady;
    private volatile bool _appReady;

    public bool ComponentsReady => _componentsReady;

    public bool AppReady => _appReady;

    public void MarkComponentsReady() => _componentsReady = true;

    public void MarkAppReady() => _appReady = true;
}
