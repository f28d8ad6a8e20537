namespace CloudScale.Sidecar.Benchmarks;

/// <summary>The operations the benchmark measures, by the names its table, its JSON and <c>--only</c> use.</summary>
internal static class Operations
{
    public const string StateGet = "state get";
    public const string StateSave = "state save";
    public const string Publish = "publish";
    public const string StateGetGrpc = "state get, gRPC SDK";
    public const string StateSaveGrpc = "state save, gRPC SDK";
    public const string PublishGrpc = "publish, gRPC SDK";
    public const string Invoke = "invoke (2 sidecars)";
    public const string InvokeSdk = "invoke (2 sidecars), SDK";

    public static IReadOnlyList<string> All { get; } = [StateGet, StateSave, Publish, StateGetGrpc, StateSaveGrpc, PublishGrpc, Invoke, InvokeSdk];
}
