using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using CloudScale.Testing;

namespace CloudScale.Workflow.Tests.Crashes;

/// <summary>
/// The booking saga as the AppHost runs it (<see cref="BookingSystem"/>), with two replicas of Order. The test places
/// 300 orders while it kills (SIGKILL) an Order replica or its sidecar at random points of progress and starts it again.
/// Every saga must end, and every effect must be there exactly once, as each service's own records show: Order's
/// statuses and outbox, Booking's reservations, the provider's payments.
/// </summary>
public sealed class BookingSagaCrashTests(TestServers servers)
{
    private const int OrderCount = 300;

    /// <summary>The last orders ask for the rooms of the first ones, for the same nights: one of each pair is refused.</summary>
    private const int ContestedRooms = 30;

    private static readonly TimeSpan CompletionDeadline = TimeSpan.FromMinutes(3);

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Booking_sagas_survive_order_replicas_and_sidecars_killed_at_random_and_apply_each_effect_once()
    {
        var (orderDb, bookingDb, workflowDb) = (await servers.CreateDatabaseAsync(), await servers.CreateDatabaseAsync(), await servers.CreateDatabaseAsync());
        await using var system = await BookingSystem.StartAsync((await servers.RedisAsync()).ConnectionString, orderDb, bookingDb, workflowDb, orderReplicas: 2);

        var rooms = await CreateRoomsAsync(system.Booking.BaseAddress, OrderCount - ContestedRooms);
        var chaos = KillAtRandomAsync(system, orderDb, bookingDb);
        var orderIds = await PlaceOrdersAsync(system.OrderReplicas, rooms);
        var kills = await chaos;

        var outcomes = await WaitUntilEverySagaEndedAsync(system.OrderReplicas[0].BaseAddress, orderIds, () => $"{kills.Count} kills: {string.Join(", ", kills)}");
        await AssertEachEffectOnceAsync(outcomes, orderDb, bookingDb, system.Payments.BaseAddress);
        // The sidecars spread the sagas over both replicas, so each one's crashes cut work in flight.
        var activitiesRun = system.OrderReplicas.Select(replica => Regex.Count(replica.Output, "Executing activity: ")).ToList();
        Assert.All(activitiesRun, count => Assert.True(count > 0, $"activities run by the Order replicas: {string.Join(", ", activitiesRun)}"));
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"kills: {string.Join(", ", kills)}; activities run by replica: {string.Join(", ", activitiesRun)}; outcomes: {string.Join(", ", outcomes.CountBy(outcome => outcome.Reason ?? outcome.Status).Select(count => $"{count.Value} {count.Key}"))}");
    }

    private static async Task<Guid[]> CreateRoomsAsync(Uri booking, int count)
    {
        using var client = new HttpClient { BaseAddress = booking };
        var rooms = new Guid[count];
        await Parallel.ForAsync(0, count, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = Cancellation }, async (index, cancellation) =>
        {
            using var response = await client.PostAsJsonAsync("/rooms", new { name = $"Room {index}", city = "Lisbon", capacity = 2, pricePerNight = 90m }, cancellation);
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            rooms[index] = (await response.Content.ReadFromJsonAsync<JsonElement>(cancellation)).GetProperty("id").GetGuid();
        });
        return rooms;
    }

    /// <summary>
    /// Places the orders, eight at a time, each on one replica or, while that one is down, the other: a retry with the same
    /// Idempotency-Key, which must find the first order rather than place a second.
    /// </summary>
    private static async Task<Guid[]> PlaceOrdersAsync(IReadOnlyList<ServiceProcess> replicas, Guid[] rooms)
    {
        var from = DateOnly.FromDateTime(DateTime.UtcNow).AddDays(10);
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var orderIds = new Guid[OrderCount];
        await Parallel.ForAsync(0, OrderCount, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = Cancellation }, async (index, cancellation) =>
        {
            var order = new { customerId = $"customer-{index % 17}", roomId = rooms[index % rooms.Length], from, to = from.AddDays(2), amount = 180m };
            var attempt = index;
            orderIds[index] = await Poll.UntilAsync(
                async () =>
                {
                    using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(replicas[attempt++ % replicas.Count].BaseAddress, "/orders"))
                    {
                        Content = JsonContent.Create(order),
                    };
                    request.Headers.Add("Idempotency-Key", $"crash-order-{index}");
                    try
                    {
                        using var response = await client.SendAsync(request, cancellation);
                        return response.StatusCode is HttpStatusCode.Accepted or HttpStatusCode.OK
                            ? (await response.Content.ReadFromJsonAsync<JsonElement>(cancellation)).GetProperty("id").GetGuid()
                            : (Guid?)null;
                    }
                    catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException)
                    {
                        return null;
                    }
                },
                placed => placed is not null,
                TimeSpan.FromSeconds(60)) ?? throw new UnreachableException("Poll returns only an accepted value.");
        });
        return orderIds;
    }

    private sealed record SagaOutcome(Guid OrderId, string Status, string? Reason, string RuntimeStatus, Guid? PaymentId);

    private static async Task<SagaOutcome[]> WaitUntilEverySagaEndedAsync(Uri order, Guid[] orderIds, Func<string> describeChaos)
    {
        using var client = new HttpClient { BaseAddress = order };
        var outcomes = new Dictionary<Guid, SagaOutcome>();
        await Poll.UntilAsync(
            async () =>
            {
                foreach (var orderId in orderIds.Where(orderId => !outcomes.ContainsKey(orderId)))
                {
                    var details = await client.GetFromJsonAsync<JsonElement>($"/orders/{orderId}", Cancellation);
                    var saga = details.GetProperty("saga");
                    var runtimeStatus = saga.GetProperty("runtimeStatus").GetString()!;
                    if (runtimeStatus is "COMPLETED" or "FAILED" or "TERMINATED")
                    {
                        var stored = details.GetProperty("order");
                        outcomes[orderId] = new SagaOutcome(
                            orderId, stored.GetProperty("status").GetString()!, stored.GetProperty("cancellationReason").GetString(), runtimeStatus,
                            saga.GetProperty("paymentId").ValueKind == JsonValueKind.Null ? null : saga.GetProperty("paymentId").GetGuid());
                    }
                }

                return outcomes.Count == orderIds.Length;
            },
            CompletionDeadline,
            () => $"{orderIds.Length - outcomes.Count} of {orderIds.Length} sagas still running after {describeChaos()}");
        return [.. outcomes.Values];
    }

    private static async Task AssertEachEffectOnceAsync(SagaOutcome[] outcomes, string orderDb, string bookingDb, Uri payments)
    {
        // Every saga ran to its end, on one of the paths the orders can take without a crash.
        Assert.All(outcomes, outcome => Assert.True(
            outcome is { RuntimeStatus: "COMPLETED", Status: "confirmed", Reason: null }
                or { RuntimeStatus: "COMPLETED", Status: "cancelled", Reason: "room-unavailable" or "payment-declined" },
            $"{outcome}"));
        Assert.Contains(outcomes, outcome => outcome.Status == "confirmed");
        Assert.Contains(outcomes, outcome => outcome.Reason == "payment-declined");
        Assert.Contains(outcomes, outcome => outcome.Reason == "room-unavailable");

        // Order: one pending order, one final status and one integration event per order, whatever ran twice.
        Assert.Equal(OrderCount, await Sql.ScalarAsync<long>(orderDb, "SELECT count(*) FROM orders"));
        Assert.Equal(0, await Sql.ScalarAsync<long>(orderDb, """
            SELECT count(*) FROM orders o
            WHERE (SELECT count(*) FROM order_status_history h WHERE h.order_id = o.id) <> 2
               OR (SELECT count(*) FROM outbox e WHERE (e.payload ->> 'orderId')::uuid = o.id) <> 1
               OR NOT EXISTS (SELECT 1 FROM outbox e WHERE (e.payload ->> 'orderId')::uuid = o.id AND e.topic = 'order.' || o.status)
            """));

        // Booking: a confirmed order has its one reservation confirmed; a cancelled one holds nothing.
        foreach (var outcome in outcomes)
        {
            var reservation = await Sql.ScalarAsync<string>(bookingDb, "SELECT coalesce(string_agg(status, ','), '') FROM reservations WHERE order_id = @order", ("order", outcome.OrderId));
            Assert.True(
                outcome.Status == "confirmed" ? reservation == "confirmed" : reservation is "" or "released",
                $"{outcome}: reservations '{reservation}'");
        }

        // The provider: a confirmed order's payment captured, a declined one's declined, any other voided.
        using var client = new HttpClient { BaseAddress = payments };
        foreach (var outcome in outcomes.Where(outcome => outcome.PaymentId is not null))
        {
            var payment = await client.GetFromJsonAsync<JsonElement>($"/payments/{outcome.PaymentId}", Cancellation);
            var expected = outcome switch
            {
                { Status: "confirmed" } => "captured",
                { Reason: "payment-declined" } => "declined",
                _ => "voided",
            };
            Assert.True(payment.GetProperty("status").GetString() == expected, $"{outcome}: payment {payment}");
        }

        Assert.DoesNotContain(outcomes, outcome => outcome.PaymentId is null && outcome.Reason != "room-unavailable");
    }

    /// <summary>
    /// Kills an Order replica or its sidecar 3 to 5 times, each time when the sagas' progress (holds taken in Booking and
    /// orders ended in Order) reaches a random point between 5 % and 75 %, and starts it again at once: moments tied to
    /// progress rather than to the clock land in the thick of the work on a machine of any speed. Returns what was killed.
    /// </summary>
    private static async Task<List<string>> KillAtRandomAsync(BookingSystem system, string orderDb, string bookingDb)
    {
        var seed = Environment.TickCount;
        var random = new Random(seed);
        const int totalProgress = (2 * OrderCount) - ContestedRooms;
        var killPoints = Enumerable.Range(0, random.Next(3, 6)).Select(_ => random.Next(totalProgress / 20, totalProgress * 3 / 4)).Order().ToArray();
        TestContext.Current.TestOutputHelper?.WriteLine($"chaos seed {seed}: kills at progress {string.Join(", ", killPoints)} of about {totalProgress}");
        var kills = new List<string>();
        foreach (var killPoint in killPoints)
        {
            long progress = 0;
            await Poll.UntilAsync(
                async () => (progress = await ProgressAsync(orderDb, bookingDb)) >= killPoint,
                CompletionDeadline,
                () => $"progress {progress}, waiting for {killPoint}");
            var victim = random.Next(system.OrderReplicas.Count);
            var restart = Stopwatch.StartNew();
            if (random.Next(2) == 0)
            {
                await system.OrderReplicas[victim].KillAndRestartAsync();
                kills.Add($"order replica {victim} at {progress} (back in {restart.Elapsed.TotalSeconds:0.0} s)");
            }
            else
            {
                await system.KillAndRestartOrderSidecarAsync(victim);
                kills.Add($"order sidecar {victim} at {progress} (back in {restart.Elapsed.TotalSeconds:0.0} s)");
            }
        }

        return kills;
    }

    private static async Task<long> ProgressAsync(string orderDb, string bookingDb) =>
        await Sql.ScalarAsync<long>(orderDb, "SELECT count(*) FROM orders WHERE status <> 'pending'")
        + await Sql.ScalarAsync<long>(bookingDb, "SELECT count(*) FROM reservations");
}
