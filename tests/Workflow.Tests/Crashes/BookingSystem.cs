using System.Net.Http.Json;
using System.Reflection;
using System.Text.Json;
using Aspire.Hosting.Dapr;
using CloudScale.Testing;

namespace CloudScale.Workflow.Tests.Crashes;

/// <summary>
/// The booking saga's services as the AppHost runs them, every one a process: the payment simulator, Booking with its
/// sidecar, and replicas of Order, each with its own sidecar, on the repository's components (one Postgres workflow
/// store for all of Order's sidecars). Any Order replica or sidecar can be killed (SIGKILL) and started again in place.
/// </summary>
internal sealed class BookingSystem : IAsyncDisposable
{
    private const string AppToken = "crash-test-app-token";

    private static readonly string ComponentsPath = typeof(BookingSystem).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(attribute => attribute.Key == "ComponentsPath").Value!;

    private readonly SidecarSettings _bookingSidecarSettings;
    private readonly SidecarSettings[] _orderSidecarSettings;
    private readonly DaprSidecar?[] _orderSidecars;
    private DaprSidecar? _bookingSidecar;

    private BookingSystem(string redis, string orderDb, string bookingDb, string workflowDb, int orderReplicas)
    {
        // What the AppHost gives every sidecar for ../components, and leases of 2 s so that a killed holder's work moves on within the test.
        Dictionary<string, string> SidecarEnvironment(params (string Name, string Value)[] more) => Variables(
            [
                ("REDIS_HOST", redis), ("REDIS_PASSWORD", ""), ("WORKFLOW_STORE_CONNECTION_STRING", workflowDb),
                ("APP_API_TOKEN", AppToken), ("CLOUDSCALE_WORKFLOW_LEASE", "2s"), .. more,
            ]);

        Payments = new ServiceProcess("PaymentSimulator", LoopbackPorts.Free(), Variables([("PaymentSimulator__LatencyMs", "100"), ("PaymentSimulator__DeclineRate", "0.2")]));
        var bookingPort = LoopbackPorts.Free();
        _bookingSidecarSettings = new SidecarSettings("booking", ComponentsPath) { AppPort = bookingPort, Environment = SidecarEnvironment() };
        Booking = new ServiceProcess("Booking", bookingPort, ServiceEnvironment(_bookingSidecarSettings, ("ConnectionStrings__bookingdb", bookingDb), ("ConnectionStrings__cache", redis)));

        var replicaPorts = Enumerable.Range(0, orderReplicas).Select(_ => LoopbackPorts.Free()).ToArray();
        _orderSidecarSettings = [.. replicaPorts.Select(port => new SidecarSettings("order", ComponentsPath)
        {
            AppPort = port,
            Environment = SidecarEnvironment(("CLOUDSCALE_DAPR_APPS__booking__0", $"http://127.0.0.1:{_bookingSidecarSettings.HttpPort}")),
        })];
        _orderSidecars = new DaprSidecar?[orderReplicas];
        OrderReplicas = [.. replicaPorts.Select((port, index) => new ServiceProcess("Order", port, ServiceEnvironment(
            _orderSidecarSettings[index],
            ("ConnectionStrings__orderdb", orderDb),
            ("ConnectionStrings__cache", redis),
            ("services__payments__http__0", Payments.BaseAddress.ToString().TrimEnd('/')),
            ("BookingSaga__PublicBaseUrl", $"http://127.0.0.1:{port}"),
            ("BookingSaga__PaymentConfirmationTimeout", "00:01:00"),
            // An order whose replica died before it started the saga is picked up by the recovery within seconds.
            ("BookingSaga__RecoveryInterval", "00:00:02"),
            ("BookingSaga__RecoveryAge", "00:00:05"),
            // The load places orders for 17 customers far faster than a customer may.
            ("OrderPlacementLimit__TokenLimit", "1000000"),
            // The SDK's worker names each activity it runs at Debug: how a test sees which replicas took work.
            ("Logging__LogLevel__Dapr.Workflow.Worker.WorkflowWorker", "Debug"))))];
    }

    public ServiceProcess Payments { get; }

    public ServiceProcess Booking { get; }

    public IReadOnlyList<ServiceProcess> OrderReplicas { get; }

    /// <summary>
    /// Starts the services and sidecars, Order's replicas one at a time (the first applies Order's schema migrations), and
    /// waits until every replica's workflow worker is connected to its sidecar: a worker that started before its sidecar
    /// connects only after the SDK's back-off, and the sagas started before then are not spread over it.
    /// </summary>
    public static async Task<BookingSystem> StartAsync(string redis, string orderDb, string bookingDb, string workflowDb, int orderReplicas)
    {
        var system = new BookingSystem(redis, orderDb, bookingDb, workflowDb, orderReplicas);
        try
        {
            await system.Payments.StartAsync();
            await system.Booking.StartAsync();
            system._bookingSidecar = await DaprSidecar.StartAsync(system._bookingSidecarSettings);
            for (var index = 0; index < orderReplicas; index++)
            {
                await system.OrderReplicas[index].StartAsync();
                system._orderSidecars[index] = await DaprSidecar.StartAsync(system._orderSidecarSettings[index]);
            }

            foreach (var sidecar in system._orderSidecars)
            {
                await Poll.UntilAsync(async () => await ConnectedWorkersAsync(sidecar!) > 0, TimeSpan.FromSeconds(60));
            }

            return system;
        }
        catch
        {
            await system.DisposeAsync();
            throw;
        }
    }

    /// <summary>kill -9 of Order replica <paramref name="index"/>'s sidecar, then the same sidecar again on the same ports.</summary>
    public async Task KillAndRestartOrderSidecarAsync(int index)
    {
        await _orderSidecars[index]!.DisposeAsync();
        _orderSidecars[index] = null;
        _orderSidecars[index] = await DaprSidecar.StartAsync(_orderSidecarSettings[index]);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var sidecar in _orderSidecars.Append(_bookingSidecar).OfType<DaprSidecar>())
        {
            await sidecar.DisposeAsync();
        }

        foreach (var service in OrderReplicas.Append(Booking).Append(Payments))
        {
            await service.DisposeAsync();
        }
    }

    private static async Task<int> ConnectedWorkersAsync(DaprSidecar sidecar)
    {
        var metadata = await sidecar.Http.GetFromJsonAsync<JsonElement>("/v1.0/metadata");
        return metadata.TryGetProperty("workflows", out var workflows) ? workflows.GetProperty("connectedWorkers").GetInt32() : 0;
    }

    /// <summary>How a service reaches its sidecar, and the token it expects from it, as the AppHost's Dapr integration sets them.</summary>
    private static Dictionary<string, string> ServiceEnvironment(SidecarSettings sidecar, params (string Name, string Value)[] settings) => Variables(
        [
            ("DAPR_HTTP_ENDPOINT", $"http://127.0.0.1:{sidecar.HttpPort}"),
            ("DAPR_GRPC_ENDPOINT", $"http://127.0.0.1:{sidecar.GrpcPort}"),
            ("APP_API_TOKEN", AppToken),
            .. settings,
        ]);

    private static Dictionary<string, string> Variables(IEnumerable<(string Name, string Value)> variables) =>
        variables.ToDictionary(variable => variable.Name, variable => variable.Value, StringComparer.Ordinal);
}
