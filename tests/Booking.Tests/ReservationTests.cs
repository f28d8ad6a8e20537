using System.Net;
using CloudScale.Booking.Reservations;
using CloudScale.Booking.Rooms;
using CloudScale.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using static CloudScale.Booking.Tests.BookingClient;

namespace CloudScale.Booking.Tests;

public sealed class ReservationTests(BookingServiceFixture booking) : IClassFixture<BookingServiceFixture>
{
    private readonly HttpClient _client = booking.Client;

    [Fact]
    public async Task Of_twenty_concurrent_holds_on_overlapping_nights_exactly_one_wins()
    {
        var room = await _client.CreateRoomAsync();

        // Three stays, each overlapping the other two; every caller races for one of them.
        var responses = await Task.WhenAll(Enumerable.Range(0, 20).Select(caller =>
            _client.HoldAsync(room.Id, Night(20 + (caller % 3)), Night(23 + (caller % 3)), customerId: $"customer-{caller}")));

        Assert.Single(responses, response => response.StatusCode == HttpStatusCode.Created);
        var losers = responses.Where(response => response.StatusCode != HttpStatusCode.Created).ToList();
        Assert.Equal(19, losers.Count);
        foreach (var loser in losers)
        {
            await loser.ReadProblemAsync(HttpStatusCode.Conflict, "room-unavailable");
        }

        Assert.Equal(1L, await Sql.ScalarAsync<long>(booking.Database, "SELECT count(*) FROM reservations WHERE room_id = @room", ("room", room.Id)));
    }

    [Fact]
    public async Task Holds_racing_in_the_store_end_with_one_winner_even_when_postgres_breaks_a_deadlock_between_them()
    {
        // No HTTP spreads these out: twenty holds of one room at once, which met inside the exclusion constraint check
        // (and Postgres aborted some as deadlocks) until holds queued on the room's row. Every loser is told the room is unavailable.
        await using var dataSource = NpgsqlDataSource.Create(booking.Database);
        var store = new ReservationStore(dataSource, Options.Create(new BookingOptions()));
        for (var round = 0; round < 10; round++)
        {
            var room = await _client.CreateRoomAsync();
            var outcomes = await Task.WhenAll(Enumerable.Range(0, 20).Select(caller => Task.Run(() => store.HoldAsync(
                new Hold(room.Id, $"customer-{caller}", Guid.NewGuid(), Night(20 + (caller % 3)), Night(23 + (caller % 3))),
                TestContext.Current.CancellationToken))));

            Assert.Single(outcomes.OfType<HoldOutcome.Created>());
            Assert.Equal(19, outcomes.OfType<HoldOutcome.RoomUnavailable>().Count());
        }
    }

    [Fact]
    public async Task Adjacent_stays_share_no_night_so_both_hold()
    {
        var room = await _client.CreateRoomAsync();

        using var first = await _client.HoldAsync(room.Id, Night(10), Night(12));
        using var second = await _client.HoldAsync(room.Id, Night(12), Night(14));
        using var straddling = await _client.HoldAsync(room.Id, Night(11), Night(13));

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.Created, second.StatusCode);
        await straddling.ReadProblemAsync(HttpStatusCode.Conflict, "room-unavailable");
        var availability = await (await _client.FetchAsync($"/rooms/{room.Id}/availability?from={Night(9):yyyy-MM-dd}&to={Night(15):yyyy-MM-dd}"))
            .ReadAsync<RoomAvailability>(HttpStatusCode.OK);
        Assert.Equal(
            [DayStatus.Free, DayStatus.Booked, DayStatus.Booked, DayStatus.Booked, DayStatus.Booked, DayStatus.Free],
            availability.Days.Select(day => day.Status));
        Assert.Equal(Enumerable.Range(9, 6).Select(Night), availability.Days.Select(day => day.Date));
    }

    [Fact]
    public async Task A_hold_answers_where_it_lives_and_until_when_it_holds()
    {
        var room = await _client.CreateRoomAsync();
        var orderId = Guid.NewGuid();

        using var response = await _client.HoldAsync(room.Id, Night(30), Night(33), orderId, customerId: "bob");

        var hold = await response.ReadAsync<Reservation>(HttpStatusCode.Created);
        Assert.Equal($"/reservations/{hold.Id}", response.Headers.Location?.OriginalString);
        Assert.Equal((room.Id, "bob", orderId, Night(30), Night(33), ReservationStatus.Held), (hold.RoomId, hold.CustomerId, hold.OrderId, hold.From, hold.To, hold.Status));
        Assert.InRange(hold.ExpiresAt!.Value, DateTimeOffset.UtcNow.AddMinutes(9), DateTimeOffset.UtcNow.AddMinutes(11));
        Assert.Contains("\"status\":\"held\"", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
        Assert.Equal(hold, await (await _client.FetchAsync($"/reservations/{hold.Id}")).ReadAsync<Reservation>(HttpStatusCode.OK));
    }

    [Fact]
    public async Task Confirming_twice_answers_the_same_confirmed_reservation()
    {
        var room = await _client.CreateRoomAsync();
        var hold = await (await _client.HoldAsync(room.Id, Night(40), Night(42))).ReadAsync<Reservation>(HttpStatusCode.Created);

        var confirmed = await (await _client.PostEmptyAsync($"/reservations/{hold.Id}/confirm")).ReadAsync<Reservation>(HttpStatusCode.OK);
        var again = await (await _client.PostEmptyAsync($"/reservations/{hold.Id}/confirm")).ReadAsync<Reservation>(HttpStatusCode.OK);

        Assert.Equal(hold with { Status = ReservationStatus.Confirmed, ExpiresAt = null }, confirmed);
        Assert.Equal(confirmed, again);
        Assert.Equal(confirmed, await (await _client.FetchAsync($"/reservations/{hold.Id}")).ReadAsync<Reservation>(HttpStatusCode.OK));
    }

    [Fact]
    public async Task Releasing_frees_the_nights_and_releasing_again_is_harmless()
    {
        var room = await _client.CreateRoomAsync();
        var held = await (await _client.HoldAsync(room.Id, Night(50), Night(52))).ReadAsync<Reservation>(HttpStatusCode.Created);
        var confirmed = await (await _client.HoldAsync(room.Id, Night(52), Night(54))).ReadAsync<Reservation>(HttpStatusCode.Created);
        await (await _client.PostEmptyAsync($"/reservations/{confirmed.Id}/confirm")).ReadAsync<Reservation>(HttpStatusCode.OK);

        foreach (var reservation in new[] { held, confirmed })
        {
            var released = await (await _client.PostEmptyAsync($"/reservations/{reservation.Id}/release")).ReadAsync<Reservation>(HttpStatusCode.OK);
            var again = await (await _client.PostEmptyAsync($"/reservations/{reservation.Id}/release")).ReadAsync<Reservation>(HttpStatusCode.OK);
            Assert.Equal(ReservationStatus.Released, released.Status);
            Assert.Equal(released, again);
            await (await _client.PostEmptyAsync($"/reservations/{reservation.Id}/confirm")).ReadProblemAsync(HttpStatusCode.Conflict, "reservation-released");
        }

        var availability = await (await _client.FetchAsync($"/rooms/{room.Id}/availability?from={Night(50):yyyy-MM-dd}&to={Night(54):yyyy-MM-dd}"))
            .ReadAsync<RoomAvailability>(HttpStatusCode.OK);
        Assert.All(availability.Days, day => Assert.Equal(DayStatus.Free, day.Status));
        Assert.Equal(HttpStatusCode.Created, (await _client.HoldAsync(room.Id, Night(50), Night(54))).StatusCode);
    }

    [Fact]
    public async Task Repeating_an_orders_hold_answers_its_first_reservation()
    {
        var room = await _client.CreateRoomAsync();
        var orderId = Guid.NewGuid();
        var first = await (await _client.HoldAsync(room.Id, Night(60), Night(62), orderId)).ReadAsync<Reservation>(HttpStatusCode.Created);

        var repeated = await (await _client.HoldAsync(room.Id, Night(60), Night(62), orderId)).ReadAsync<Reservation>(HttpStatusCode.OK);
        using var different = await _client.HoldAsync(room.Id, Night(70), Night(72), orderId);

        Assert.Equal(first, repeated);
        await different.ReadProblemAsync(HttpStatusCode.Conflict, "order-already-reserved");
        Assert.Equal(1L, await Sql.ScalarAsync<long>(booking.Database, "SELECT count(*) FROM reservations WHERE order_id = @order", ("order", orderId)));
    }

    public static TheoryData<string, string> InvalidHolds()
    {
        var room = Guid.NewGuid();
        var order = Guid.NewGuid();
        string Body(string roomId, string customerId, DateOnly? from, DateOnly? to, string orderId) =>
            $$"""{"roomId":{{roomId}},"customerId":{{customerId}},"from":{{Date(from)}},"to":{{Date(to)}},"orderId":{{orderId}}}""";
        static string Date(DateOnly? date) => date is null ? "null" : $"\"{date:yyyy-MM-dd}\"";
        var (r, c, o) = ($"\"{room}\"", "\"alice\"", $"\"{order}\"");
        return new()
        {
            { "roomId", Body("null", c, Night(5), Night(6), o) },
            { "customerId", Body(r, "null", Night(5), Night(6), o) },
            { "customerId", Body(r, "\"   \"", Night(5), Night(6), o) },
            { "customerId", Body(r, $"\"{new string('c', 101)}\"", Night(5), Night(6), o) },
            { "orderId", Body(r, c, Night(5), Night(6), "null") },
            { "orderId", Body(r, c, Night(5), Night(6), $"\"{Guid.Empty}\"") },
            { "from", Body(r, c, null, Night(6), o) },
            { "from", Body(r, c, Night(-1), Night(2), o) },
            { "to", Body(r, c, Night(5), null, o) },
            { "to", Body(r, c, Night(6), Night(6), o) },
            { "to", Body(r, c, Night(6), Night(5), o) },
            { "to", Body(r, c, Night(5), Night(36), o) },
            { "to", Body(r, c, Night(800), Night(802), o) },
        };
    }

    [Theory]
    [MemberData(nameof(InvalidHolds))]
    public async Task An_invalid_hold_is_400_with_the_field_and_holds_nothing(string field, string body)
    {
        var before = await booking.SnapshotAsync("reservations");

        using var response = await _client.PostJsonTextAsync("/reservations", body);

        await response.AssertFieldErrorAsync(field);
        Assert.Equal(before, await booking.SnapshotAsync("reservations"));
    }

    [Fact]
    public async Task Unknown_rooms_and_reservations_are_404_problems()
    {
        var before = await booking.SnapshotAsync("reservations");
        var unknown = Guid.NewGuid();

        await (await _client.HoldAsync(unknown, Night(5), Night(6))).ReadProblemAsync(HttpStatusCode.NotFound, "room-not-found");
        await (await _client.FetchAsync($"/reservations/{unknown}")).ReadProblemAsync(HttpStatusCode.NotFound, "reservation-not-found");
        await (await _client.PostEmptyAsync($"/reservations/{unknown}/confirm")).ReadProblemAsync(HttpStatusCode.NotFound, "reservation-not-found");
        await (await _client.PostEmptyAsync($"/reservations/{unknown}/release")).ReadProblemAsync(HttpStatusCode.NotFound, "reservation-not-found");
        await (await _client.PostEmptyAsync("/reservations/not-an-id/confirm")).ReadProblemAsync(HttpStatusCode.NotFound);
        Assert.Equal(before, await booking.SnapshotAsync("reservations"));
    }

    [Fact]
    public async Task Without_an_app_token_as_on_container_apps_the_sidecar_calls_without_one_and_is_admitted()
    {
        var logs = new ListLoggerProvider();
        await using var replica = await booking.StartReplicaAsync(new Dictionary<string, string?>(StringComparer.Ordinal) { ["APP_API_TOKEN"] = "" }, logs);
        var room = await _client.CreateRoomAsync();
        using var sidecar = new HttpClient { BaseAddress = replica.BaseAddress };

        var hold = await (await sidecar.HoldAsync(room.Id, Night(44), Night(45))).ReadAsync<Reservation>(HttpStatusCode.Created);
        Assert.Equal(HttpStatusCode.OK, (await sidecar.PostEmptyAsync($"/reservations/{hold.Id}/confirm")).StatusCode);
        Assert.Contains(logs.Entries, log => log.Level == LogLevel.Warning && log.Message.Contains("APP_API_TOKEN is not set", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("another-token")]
    public async Task Only_the_sidecar_with_the_app_token_may_hold_confirm_or_release(string? token)
    {
        var room = await _client.CreateRoomAsync();
        var hold = await (await _client.HoldAsync(room.Id, Night(40), Night(41))).ReadAsync<Reservation>(HttpStatusCode.Created);
        var before = await booking.SnapshotAsync("reservations");
        using var stranger = new HttpClient { BaseAddress = booking.Service.BaseAddress };
        if (token is not null)
        {
            stranger.DefaultRequestHeaders.Add("dapr-api-token", token);
        }

        await (await stranger.HoldAsync(room.Id, Night(42), Night(43))).ReadProblemAsync(HttpStatusCode.Unauthorized);
        await (await stranger.PostEmptyAsync($"/reservations/{hold.Id}/confirm")).ReadProblemAsync(HttpStatusCode.Unauthorized);
        await (await stranger.PostEmptyAsync($"/reservations/{hold.Id}/release")).ReadProblemAsync(HttpStatusCode.Unauthorized);
        Assert.Equal(hold, await (await stranger.FetchAsync($"/reservations/{hold.Id}")).ReadAsync<Reservation>(HttpStatusCode.OK));
        Assert.Equal(before, await booking.SnapshotAsync("reservations"));
    }

    [Theory]
    [InlineData("to={0}", "from")]
    [InlineData("from={0}", "to")]
    [InlineData("from={1}&to={0}", "to")]
    [InlineData("from={0}&to={0}", "to")]
    [InlineData("from={0}&to={2}", "to")]
    public async Task Invalid_availability_ranges_are_400_with_the_field(string query, string field)
    {
        var room = await _client.CreateRoomAsync();
        var dates = new object[] { Night(1).ToString("yyyy-MM-dd"), Night(2).ToString("yyyy-MM-dd"), Night(92).ToString("yyyy-MM-dd") };

        using var response = await _client.FetchAsync($"/rooms/{room.Id}/availability?{string.Format(System.Globalization.CultureInfo.InvariantCulture, query, dates)}");

        await response.AssertFieldErrorAsync(field);
    }

    [Fact]
    public async Task An_unparseable_availability_date_is_a_400_problem()
    {
        var room = await _client.CreateRoomAsync();

        using var response = await _client.FetchAsync($"/rooms/{room.Id}/availability?from=tomorrow&to=2030-01-01");

        await response.ReadProblemAsync(HttpStatusCode.BadRequest);
    }
}
