using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Aspire.Hosting;
using CloudScale.Testing;
using Microsoft.Playwright;

namespace CloudScale.EndToEnd.Tests;

/// <summary>
/// Aspire's dashboard, driven in Debian's Chromium as a developer uses it: log in with the token, see every resource
/// running and healthy, and after one order find one trace with spans from Order, Booking and both sidecars.
/// </summary>
public sealed partial class DashboardTests(DashboardSystem system) : IClassFixture<DashboardSystem>
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);
    private static readonly string[] OrderSidecars = ["order-dapr-1", "order-dapr-2"];
    private readonly Journey _journey = new(system);

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Every_resource_is_running_and_healthy_and_one_trace_shows_an_order_across_both_sidecars()
    {
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = "/usr/bin/chromium",
            Headless = true,
            // As the machine's own probe starts it: root needs --no-sandbox, and the closed network refuses Google's services.
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
        var page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 1600, Height = 1000 } });
        try
        {
            await page.GotoAsync(system.LoginUrl().ToString());
            var resources = new[] { "cache", "postgres", "bookingdb", "orderdb", "notificationdb", "workflowdb", "booking", "booking-dapr", "order", "order-dapr", "notification", "notification-dapr", "payments" };
            await Poll.UntilAsync(
                async () => RunningRows(await page.InnerTextAsync("body")) >= resources.Length && !(await page.InnerTextAsync("body")).Contains("Unhealthy", StringComparison.Ordinal),
                Deadline,
                () => "The resources page never showed every resource Running and none Unhealthy.");
            var resourcesPage = await page.InnerTextAsync("body");
            Assert.All(resources, resource => Assert.Contains(resource, resourcesPage, StringComparison.Ordinal));
            await page.ScreenshotAsync(new() { Path = ScreenshotPath("resources"), FullPage = true });

            // The order is placed under a trace id of the test's own, so that its trace is found among the health checks'.
            var traceId = ActivityTraceId.CreateRandom();
            await system.SetPaymentBehaviourAsync(latencyMs: 100);
            var orderId = await _journey.PlaceOrderAsync(
                Journey.NewCustomer(), await _journey.CreateRoomAsync(), Journey.Stay(), traceParent: $"00-{traceId}-{ActivitySpanId.CreateRandom()}-01");
            await _journey.WaitForSagaEndAsync(orderId);

            string[] services = ["order", "booking", "order-dapr", "booking-dapr"];
            await Poll.UntilAsync(
                async () =>
                {
                    // The page renders over its live connection after it loads; a trace still arriving needs a reload.
                    await page.GotoAsync(new Uri(system.LoginUrl(), $"/traces/detail/{traceId}").ToString());
                    try
                    {
                        await page.WaitForFunctionAsync("names => names.every(name => document.body.innerText.includes(name))", services, new() { Timeout = 10_000 });
                    }
                    catch (TimeoutException)
                    {
                        return false;
                    }

                    var trace = await page.InnerTextAsync("body");
                    return services.All(service => ServiceIn(trace, service));
                },
                Deadline,
                () => "The order's trace " + traceId + " never showed spans from " + string.Join(", ", services) + ".");
        }
        finally
        {
            await page.ScreenshotAsync(new() { Path = ScreenshotPath("last"), FullPage = true });
        }
    }

    [Fact]
    public async Task Each_order_replica_talks_to_its_own_sidecar()
    {
        var instances = await OrderInstancesAsync();
        var sidecarPorts = OrderSidecars
            .Select(sidecar => system.App.GetEndpoint(sidecar, "http").Port.ToString(CultureInfo.InvariantCulture))
            .Order(StringComparer.Ordinal);

        var appPorts = instances.Select(instance =>
        {
            Assert.True(system.App.ResourceNotifications.TryGetCurrentState(instance, out var current), $"No state for {instance}.");
            return current!.Snapshot.EnvironmentVariables.Single(variable => variable.Name == "DAPR_HTTP_PORT").Value;
        }).Order(StringComparer.Ordinal);

        Assert.Equal(2, instances.Length);
        Assert.Equal(sidecarPorts, appPorts);
        using var order = system.App.CreateHttpClient("order");
        foreach (var _ in instances)
        {
            // Readiness covers the replica's own sidecar; both answer through the load-balanced endpoint.
            using var health = await order.GetAsync(new Uri("/health", UriKind.Relative), Cancellation);
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        }
    }

    /// <summary>The replicas of Order by their DCP names, as the notification service reports them.</summary>
    private async Task<string[]> OrderInstancesAsync()
    {
        var instances = new HashSet<string>(StringComparer.Ordinal);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Cancellation);
        deadline.CancelAfter(Deadline);
        await foreach (var update in system.App.ResourceNotifications.WatchAsync(deadline.Token))
        {
            if (update.Resource.Name == "order" && instances.Add(update.ResourceId) && instances.Count == 2)
            {
                break;
            }
        }

        return [.. instances];
    }

    private static int RunningRows(string text) => RunningPattern().Count(text);

    /// <summary>
    /// The trace lists each span's resource by name; a replica's name has DCP's suffix ("order-xkgeuhjp", "order-dapr-1"),
    /// and "order" must not be matched by "order-dapr" alone.
    /// </summary>
    private static bool ServiceIn(string trace, string service) =>
        Regex.IsMatch(trace, $@"(^|\s){Regex.Escape(service)}(?!-dapr)(-[a-z0-9]+)*(\s|\(|$)", RegexOptions.Multiline, TimeSpan.FromSeconds(1));

    private static string ScreenshotPath(string what)
    {
        var directory = Path.Combine(Environment.GetEnvironmentVariable("CLOUDSCALE_TEST_SERVER_LOGS") is { Length: > 0 } logs ? Path.GetDirectoryName(logs)! : Path.GetTempPath(), "screenshots");
        Directory.CreateDirectory(directory);
        return Path.Combine(directory, $"dashboard-{what}-{DateTime.UtcNow:yyyyMMdd-HHmmss}.png");
    }

    [GeneratedRegex(@"\bRunning\b", RegexOptions.None, matchTimeoutMilliseconds: 1000)]
    private static partial Regex RunningPattern();
}
