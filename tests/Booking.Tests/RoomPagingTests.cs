using System.Globalization;
using System.Net;
using CloudScale.Booking.Rooms;
using CloudScale.Testing;

namespace CloudScale.Booking.Tests;

public sealed class RoomPagingTests(RoomPagingTests.Catalogue catalogue) : IClassFixture<RoomPagingTests.Catalogue>
{
    private readonly HttpClient _client = catalogue.Client;

    /// <summary>A database of its own holding 45 rooms in two cities, with repeated prices so that the id must break ties.</summary>
    public sealed class Catalogue(TestServers servers) : BookingServiceFixture(servers)
    {
        internal IReadOnlyList<Room> Rooms { get; private set; } = [];

        public override async ValueTask InitializeAsync()
        {
            await base.InitializeAsync();
            Rooms = await Task.WhenAll(Enumerable.Range(0, 45).Select(index => Client.CreateRoomAsync(
                city: index % 3 == 0 ? "Porto" : "Lisbon", pricePerNight: 100m + (index % 9 * 15m), capacity: 1 + (index % 4), name: $"Room {index}")));
        }
    }

    [Theory]
    [InlineData(null, null, null, 7)]
    [InlineData(null, null, null, 100)]
    [InlineData("Porto", null, null, 4)]
    [InlineData("Lisbon", 3, null, 5)]
    [InlineData(null, null, 160.0, 6)]
    [InlineData("Lisbon", 2, 190.0, 1)]
    public async Task Following_next_cursor_walks_every_matching_room_once_in_price_order(string? city, int? minCapacity, double? maxPrice, int limit)
    {
        var expected = catalogue.Rooms
            .Where(room => (city is null || room.City == city) && room.Capacity >= (minCapacity ?? 0) && (maxPrice is null || room.PricePerNight <= (decimal)maxPrice))
            // Postgres orders uuids by their bytes, which is the order of their hex text.
            .OrderBy(room => room.PricePerNight).ThenBy(room => room.Id.ToString("N"), StringComparer.Ordinal)
            .Select(room => room.Id)
            .ToList();
        var filters = string.Join('&', new[]
        {
            city is null ? null : $"city={city}",
            minCapacity is null ? null : $"minCapacity={minCapacity}",
            maxPrice is null ? null : string.Create(CultureInfo.InvariantCulture, $"maxPricePerNight={maxPrice}"),
            $"limit={limit}",
        }.Where(filter => filter is not null));

        var walked = new List<Guid>();
        string? cursor = null;
        do
        {
            var page = await (await _client.FetchAsync($"/rooms?{filters}{(cursor is null ? "" : $"&cursor={cursor}")}")).ReadAsync<RoomPage>(HttpStatusCode.OK);
            Assert.InRange(page.Items.Count, 1, limit);
            walked.AddRange(page.Items.Select(room => room.Id));
            cursor = page.NextCursor;
        }
        while (cursor is not null);

        Assert.NotEmpty(expected);
        Assert.Equal(expected, walked);
    }

    [Fact]
    public async Task A_page_holds_twenty_rooms_unless_told_otherwise()
    {
        var page = await (await _client.FetchAsync("/rooms")).ReadAsync<RoomPage>(HttpStatusCode.OK);

        Assert.Equal(20, page.Items.Count);
        Assert.NotNull(page.NextCursor);
    }

    [Theory]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=101", "limit")]
    [InlineData("minCapacity=0", "minCapacity")]
    [InlineData("maxPricePerNight=0", "maxPricePerNight")]
    [InlineData("city=", "city")]
    [InlineData("cursor=not-a-cursor", "cursor")]
    [InlineData("cursor=bm90LWEtY3Vyc29y", "cursor")]
    public async Task Invalid_paging_queries_are_400_with_the_field(string query, string field)
    {
        using var response = await _client.FetchAsync($"/rooms?{query}");

        await response.AssertFieldErrorAsync(field);
    }

    [Fact]
    public async Task Unparseable_numbers_are_400_problems()
    {
        using var response = await _client.FetchAsync("/rooms?limit=many");

        await response.ReadProblemAsync(HttpStatusCode.BadRequest);
    }
}
