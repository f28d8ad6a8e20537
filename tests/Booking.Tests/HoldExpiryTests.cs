using System.Net;
using CloudScale.Booking.Reservations;
using CloudScale.Booking.Rooms;
using CloudScale.Testing;
using static CloudScale.Booking.Tests.BookingClient;

namespace CloudScale.Booking.Tests;

/// <summary>Holds of one second, each test with a database and a service of its own so that no other sweeper interferes.</summary>
public sealed class HoldExpiryTests(TestServers servers)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task The_sweeper_marks_a_lapsed_hold_expired_which_frees_its_nights_and_cannot_be_confirmed()
    {
        await using var lapsing = await HoldAsync(sweepInterval: "00:00:00.2");
        var client = lapsing.Service.Client;

        await Poll.UntilAsync(() => lapsing.StoredStatusAsync(), status => status == "expired", Deadline);

        await (await client.PostEmptyAsync($"/reservations/{lapsing.Hold.Id}/confirm")).ReadProblemAsync(HttpStatusCode.Conflict, "reservation-expired");
        var released = await (await client.PostEmptyAsync($"/reservations/{lapsing.Hold.Id}/release")).ReadAsync<Reservation>(HttpStatusCode.OK);
        Assert.Equal(ReservationStatus.Expired, released.Status);
        Assert.Equal(HttpStatusCode.Created, (await client.HoldAsync(lapsing.Room.Id, Night(10), Night(12))).StatusCode);
    }

    [Fact]
    public async Task A_lapsed_hold_stops_blocking_at_its_deadline_before_any_sweep()
    {
        await using var lapsing = await HoldAsync(sweepInterval: "01:00:00");
        var client = lapsing.Service.Client;

        await Poll.UntilAsync(
            async () => (await (await client.FetchAsync($"/reservations/{lapsing.Hold.Id}")).ReadAsync<Reservation>(HttpStatusCode.OK)).Status,
            status => status == ReservationStatus.Expired,
            Deadline);
        Assert.Equal("held", await lapsing.StoredStatusAsync());

        var availability = await (await client.FetchAsync($"/rooms/{lapsing.Room.Id}/availability?from={Night(10):yyyy-MM-dd}&to={Night(12):yyyy-MM-dd}"))
            .ReadAsync<RoomAvailability>(HttpStatusCode.OK);
        Assert.All(availability.Days, day => Assert.Equal(DayStatus.Free, day.Status));
        await (await client.PostEmptyAsync($"/reservations/{lapsing.Hold.Id}/confirm")).ReadProblemAsync(HttpStatusCode.Conflict, "reservation-expired");
        Assert.Equal(HttpStatusCode.Created, (await client.HoldAsync(lapsing.Room.Id, Night(11), Night(13))).StatusCode);
        // The new hold marked the lapsed one on its way in.
        Assert.Equal("expired", await lapsing.StoredStatusAsync());
    }

    /// <summary>A service whose holds last one second, and one hold it made of a new room for the nights 10 and 11 days ahead.</summary>
    private async Task<LapsingHold> HoldAsync(string sweepInterval)
    {
        var database = await servers.CreateDatabaseAsync();
        var service = await BookingService.StartAsync(database, (await servers.RedisAsync()).ConnectionString, new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["Booking:HoldDuration"] = "00:00:01",
            ["Booking:ExpirySweepInterval"] = sweepInterval,
        });
        var room = await service.Client.CreateRoomAsync();
        var hold = await (await service.Client.HoldAsync(room.Id, Night(10), Night(12))).ReadAsync<Reservation>(HttpStatusCode.Created);
        return new LapsingHold(service, database, room, hold);
    }

    private sealed record LapsingHold(InProcessApp Service, string Database, Room Room, Reservation Hold) : IAsyncDisposable
    {
        /// <summary>The status column itself, which only the sweeper or a later hold changes (reads report lapsed holds as expired).</summary>
        public Task<string> StoredStatusAsync() =>
            Sql.ScalarAsync<string>(Database, "SELECT status FROM reservations WHERE id = @id", ("id", Hold.Id));

        public ValueTask DisposeAsync() => Service.DisposeAsync();
    }
}
