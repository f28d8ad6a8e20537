using System.Net;
using System.Net.Http.Json;
using CloudScale.Booking.Rooms;
using CloudScale.Testing;

namespace CloudScale.Booking.Tests;

public sealed class RoomTests(BookingServiceFixture booking) : IClassFixture<BookingServiceFixture>
{
    private readonly HttpClient _client = booking.Client;

    [Fact]
    public async Task A_created_room_is_served_at_its_location_with_its_etag()
    {
        using var created = await _client.PostAsJsonAsync(
            "/rooms", new { name = "Garden suite", city = "Porto", capacity = 3, pricePerNight = 149.50m }, ServiceResponses.Json, TestContext.Current.CancellationToken);
        var room = await created.ReadAsync<Room>(HttpStatusCode.Created);

        Assert.Equal($"/rooms/{room.Id}", created.Headers.Location?.OriginalString);
        Assert.Equal("\"1\"", created.Headers.ETag?.ToString());
        using var fetched = await _client.FetchAsync(created.Headers.Location!.OriginalString);
        Assert.Equal(new Room(room.Id, "Garden suite", "Porto", 3, 149.50m, 1), await fetched.ReadAsync<Room>(HttpStatusCode.OK));
        Assert.Equal("\"1\"", fetched.Headers.ETag?.ToString());
    }

    [Fact]
    public async Task An_update_with_the_current_etag_replaces_the_room_and_moves_its_version_on()
    {
        var room = await _client.CreateRoomAsync();

        using var updated = await _client.UpdateRoomAsync(room.Id, new { name = "Renamed", city = "Faro", capacity = 4, pricePerNight = 99m }, room.ETag());

        Assert.Equal(new Room(room.Id, "Renamed", "Faro", 4, 99m, 2), await updated.ReadAsync<Room>(HttpStatusCode.OK));
        Assert.Equal("\"2\"", updated.Headers.ETag?.ToString());
        using var wildcard = await _client.UpdateRoomAsync(room.Id, new { name = "Any version", city = "Faro", capacity = 4, pricePerNight = 99m }, "*");
        Assert.Equal(3, (await wildcard.ReadAsync<Room>(HttpStatusCode.OK)).Version);
    }

    [Fact]
    public async Task An_update_with_a_stale_etag_is_412_and_changes_nothing()
    {
        var room = await _client.CreateRoomAsync();
        using var first = await _client.UpdateRoomAsync(room.Id, new { name = "First writer", city = "Lisbon", capacity = 2, pricePerNight = 120m }, room.ETag());
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var before = await booking.SnapshotAsync("rooms");

        using var second = await _client.UpdateRoomAsync(room.Id, new { name = "Second writer", city = "Lisbon", capacity = 2, pricePerNight = 120m }, room.ETag());

        var problem = await second.ReadProblemAsync(HttpStatusCode.PreconditionFailed, "version-mismatch");
        Assert.Contains("\"2\"", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(before, await booking.SnapshotAsync("rooms"));
    }

    [Theory]
    [InlineData(null, HttpStatusCode.PreconditionRequired, "if-match-required")]
    [InlineData("W/\"1\"", HttpStatusCode.PreconditionFailed, "version-mismatch")]
    [InlineData("\"not-a-version\"", HttpStatusCode.PreconditionFailed, "version-mismatch")]
    public async Task An_update_without_a_strong_current_etag_is_refused(string? ifMatch, HttpStatusCode expected, string type)
    {
        var room = await _client.CreateRoomAsync();
        var before = await booking.SnapshotAsync("rooms");

        using var response = await _client.UpdateRoomAsync(room.Id, new { name = "Blind write", city = "Lisbon", capacity = 2, pricePerNight = 120m }, ifMatch);

        await response.ReadProblemAsync(expected, type);
        Assert.Equal(before, await booking.SnapshotAsync("rooms"));
    }

    [Theory]
    [InlineData("name", """{"city":"Lisbon","capacity":2,"pricePerNight":100}""")]
    [InlineData("name", """{"name":"  ","city":"Lisbon","capacity":2,"pricePerNight":100}""")]
    [InlineData("city", """{"name":"Room","capacity":2,"pricePerNight":100}""")]
    [InlineData("capacity", """{"name":"Room","city":"Lisbon","pricePerNight":100}""")]
    [InlineData("capacity", """{"name":"Room","city":"Lisbon","capacity":0,"pricePerNight":100}""")]
    [InlineData("capacity", """{"name":"Room","city":"Lisbon","capacity":101,"pricePerNight":100}""")]
    [InlineData("pricePerNight", """{"name":"Room","city":"Lisbon","capacity":2}""")]
    [InlineData("pricePerNight", """{"name":"Room","city":"Lisbon","capacity":2,"pricePerNight":-5}""")]
    [InlineData("pricePerNight", """{"name":"Room","city":"Lisbon","capacity":2,"pricePerNight":10.005}""")]
    public async Task Invalid_room_details_are_400_with_the_field_for_create_and_update(string field, string body)
    {
        var room = await _client.CreateRoomAsync();
        var before = await booking.SnapshotAsync("rooms");

        using var create = await _client.PostJsonTextAsync("/rooms", body);
        using var update = await _client.UpdateRoomAsync(room.Id, System.Text.Json.JsonDocument.Parse(body).RootElement, room.ETag());

        await create.AssertFieldErrorAsync(field);
        await update.AssertFieldErrorAsync(field);
        Assert.Equal(before, await booking.SnapshotAsync("rooms"));
    }

    [Theory]
    [InlineData("/rooms", "{\"name\":")]
    [InlineData("/rooms", "{\"name\":\"Room\",\"city\":\"Lisbon\",\"capacity\":\"two\",\"pricePerNight\":100}")]
    [InlineData("/rooms", "")]
    [InlineData("/reservations", "{\"roomId\":\"not-a-guid\"}")]
    [InlineData("/reservations", "{\"from\":\"31/12/2030\"}")]
    [InlineData("/reservations", "[]")]
    [InlineData("/reservations", "")]
    public async Task Unreadable_bodies_are_400_problems_and_change_nothing(string path, string body)
    {
        var before = (await booking.SnapshotAsync("rooms"), await booking.SnapshotAsync("reservations"));

        using var response = await _client.PostJsonTextAsync(path, body);

        await response.ReadProblemAsync(HttpStatusCode.BadRequest);
        Assert.Equal(before, (await booking.SnapshotAsync("rooms"), await booking.SnapshotAsync("reservations")));
    }

    [Fact]
    public async Task An_unknown_room_is_a_404_problem_on_every_route()
    {
        var unknown = Guid.NewGuid();
        var nights = $"from={BookingClient.Night(10):yyyy-MM-dd}&to={BookingClient.Night(12):yyyy-MM-dd}";

        using var get = await _client.FetchAsync($"/rooms/{unknown}");
        using var update = await _client.UpdateRoomAsync(unknown, new { name = "Ghost", city = "Lisbon", capacity = 2, pricePerNight = 120m }, "\"1\"");
        using var availability = await _client.FetchAsync($"/rooms/{unknown}/availability?{nights}");
        using var notAnId = await _client.FetchAsync("/rooms/not-an-id");

        await get.ReadProblemAsync(HttpStatusCode.NotFound, "room-not-found");
        await update.ReadProblemAsync(HttpStatusCode.NotFound, "room-not-found");
        await availability.ReadProblemAsync(HttpStatusCode.NotFound, "room-not-found");
        await notAnId.ReadProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_walk_is_not_disturbed_by_rooms_added_behind_its_cursor()
    {
        var city = $"Walk-{Guid.NewGuid():N}";
        foreach (var price in new[] { 100m, 110m, 120m, 130m })
        {
            await _client.CreateRoomAsync(city, price);
        }

        var first = await (await _client.FetchAsync($"/rooms?city={city}&limit=2")).ReadAsync<RoomPage>(HttpStatusCode.OK);
        // Sorts before the cursor: with offset paging, the next page would serve the 110 room again.
        await _client.CreateRoomAsync(city, 50m);
        var second = await (await _client.FetchAsync($"/rooms?city={city}&limit=2&cursor={first.NextCursor}")).ReadAsync<RoomPage>(HttpStatusCode.OK);

        Assert.Equal([100m, 110m], first.Items.Select(room => room.PricePerNight));
        Assert.Equal([120m, 130m], second.Items.Select(room => room.PricePerNight));
        Assert.Null(second.NextCursor);
    }

    [Fact]
    public async Task The_openapi_document_describes_every_route()
    {
        var document = await (await _client.FetchAsync("/openapi/v1.json")).ReadAsync<System.Text.Json.JsonElement>(HttpStatusCode.OK);

        var paths = document.GetProperty("paths").EnumerateObject().Select(path => path.Name).ToHashSet(StringComparer.Ordinal);
        Assert.Superset(
            new HashSet<string>(StringComparer.Ordinal)
            {
                "/rooms", "/rooms/{id}", "/rooms/{id}/availability",
                "/reservations", "/reservations/{id}", "/reservations/{id}/confirm", "/reservations/{id}/release",
            },
            paths);
    }
}
