using System.Globalization;
using System.Net;
using System.Text;
using CloudScale.Testing;
using CsCheck;

namespace CloudScale.Booking.Tests;

/// <summary>
/// Random and broken bodies, versions, queries and ids, biased to what Booking reads and to one room that exists: every
/// answer is a success or an RFC 9457 problem with a 4xx status and a trace id, never a 5xx. CsCheck shrinks a failure
/// to its smallest input and prints the seed that reproduces it.
/// </summary>
public sealed class BookingApiFuzzTests(BookingServiceFixture booking) : IClassFixture<BookingServiceFixture>
{
    private const int Iterations = 1000;

    private static readonly string[] FieldNames =
        ["name", "city", "capacity", "pricePerNight", "PricePerNight", "roomId", "customerId", "from", "to", "orderId"];

    private static readonly string[] Dates =
        [BookingClient.Night(10).ToString("O", CultureInfo.InvariantCulture), BookingClient.Night(12).ToString("O", CultureInfo.InvariantCulture), "2020-01-01", "2030-02-30", "9999-12-31"];

    private static readonly string[] Values =
        ["", " ", "Lisbon", "ada", Guid.Empty.ToString(), Guid.NewGuid().ToString(), "0", "-1", "2", "120.5", "0.001", "abc", new string('x', 300), "\u0000", "é😀", "*", "\"1\""];

    [Fact]
    public async Task Writing_rooms_and_reservations_answers_success_or_a_4xx_problem_whatever_the_body()
    {
        var room = await booking.Client.CreateRoomAsync();
        string[] words = [.. Values, .. Dates, room.Id.ToString()];
        var routes = Gen.OneOf(
            (HttpMethod.Post, "/rooms"), (HttpMethod.Put, $"/rooms/{room.Id}"), (HttpMethod.Post, "/reservations"));

        await Gen.Select(routes, FuzzJson.Bodies(FieldNames, words), FuzzJson.HeaderValue(words)).SampleAsync(
            async (route, body, ifMatch) =>
            {
                using var request = new HttpRequestMessage(route.Item1, route.Item2) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
                request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
                await booking.Client.AssertSuccessOrClientProblemAsync(request, HttpStatusCode.OK, HttpStatusCode.Created);
            },
            iter: Iterations, threads: 1);
    }

    [Fact]
    public async Task Reading_rooms_and_changing_reservations_answers_success_or_a_4xx_problem_whatever_the_query_and_id()
    {
        var room = await booking.Client.CreateRoomAsync();
        var text = FuzzJson.UrlText([.. Values, .. Dates, room.Id.ToString()]);
        var paths = Gen.OneOf(
            (HttpMethod.Get, "/rooms?city={0}&minCapacity={1}&maxPricePerNight={2}&limit={1}&cursor={0}"),
            (HttpMethod.Get, "/rooms/{0}"),
            (HttpMethod.Get, "/rooms/{0}/availability?from={1}&to={2}"),
            (HttpMethod.Get, "/reservations/{0}"),
            (HttpMethod.Post, "/reservations/{0}/confirm"),
            (HttpMethod.Post, "/reservations/{0}/release"));

        await Gen.Select(paths, text, text, text).SampleAsync(
            async (path, first, second, third) =>
            {
                using var request = new HttpRequestMessage(path.Item1, string.Format(CultureInfo.InvariantCulture, path.Item2, first, second, third));
                await booking.Client.AssertSuccessOrClientProblemAsync(request, HttpStatusCode.OK);
            },
            iter: Iterations, threads: 1);
    }
}
