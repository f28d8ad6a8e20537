using System.Net;
using System.Text;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using CloudScale.Testing;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace CloudScale.EndToEnd.Tests;

/// <summary>
/// Bad input to every public endpoint of every service gets a 4xx RFC 9457 problem and changes nothing. A class of its
/// own, so that no saga of another test writes to the databases while their contents are compared.
/// </summary>
public sealed class BadInputTests(CloudScaleSystem system) : IClassFixture<CloudScaleSystem>
{
    private static readonly string[] Databases = ["bookingdb", "orderdb", "notificationdb"];

    private static readonly string Oversized = $$"""{"name":"{{new string('x', 2 * 1024 * 1024)}}"}""";

    // Long enough for a loaded machine to answer before the body is sent anyway.
    private static readonly HttpClient Client = new(new SocketsHttpHandler { Expect100ContinueTimeout = TimeSpan.FromSeconds(30) });

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    /// <summary>(service, method, path, JSON body or null, expected status). <c>{room}</c> is an existing room; <c>{unknown}</c> is no entity.</summary>
    public static TheoryData<string, string, string, string?, int> Requests() => new()
    {
        // Booking
        { "booking", "POST", "/rooms", """{"name":""", 400 },
        { "booking", "POST", "/rooms", """{"name":1,"city":true,"capacity":"two","pricePerNight":"cheap"}""", 400 },
        { "booking", "POST", "/rooms", "{}", 400 },
        { "booking", "POST", "/rooms", """{"name":"A","city":"B","capacity":0,"pricePerNight":-1}""", 400 },
        { "booking", "POST", "/rooms", Oversized, 413 },
        { "booking", "PUT", "/rooms/{room}", """{"name":"A","city":"B","capacity":2,"pricePerNight":10}""", 428 },
        { "booking", "PUT", "/rooms/{unknown}", """{"name":""", 400 },
        { "booking", "GET", "/rooms?limit=0", null, 400 },
        { "booking", "GET", "/rooms?cursor=not-a-cursor", null, 400 },
        { "booking", "GET", "/rooms?minCapacity=many", null, 400 },
        { "booking", "GET", "/rooms/{unknown}", null, 404 },
        { "booking", "GET", "/rooms/not-a-guid", null, 404 },
        { "booking", "GET", "/rooms/{room}/availability?from=2030-01-10&to=2030-01-01", null, 400 },
        { "booking", "GET", "/rooms/{room}/availability?from=someday&to=2030-01-01", null, 400 },
        // Holds, confirmations and releases are only for the sidecar (APP_API_TOKEN): invoked through booking's sidecar
        // they are validated as the saga's calls are; called directly they are refused.
        { "booking-dapr", "POST", "/v1.0/invoke/booking/method/reservations", "{}", 400 },
        { "booking-dapr", "POST", "/v1.0/invoke/booking/method/reservations", """{"roomId":"{room}","customerId":"ada","from":"2020-01-01","to":"2020-01-03","orderId":"{unknown}"}""", 400 },
        { "booking-dapr", "POST", "/v1.0/invoke/booking/method/reservations", "[1,2,3]", 400 },
        { "booking", "GET", "/reservations/{unknown}", null, 404 },
        { "booking-dapr", "POST", "/v1.0/invoke/booking/method/reservations/{unknown}/confirm", null, 404 },
        { "booking-dapr", "POST", "/v1.0/invoke/booking/method/reservations/{unknown}/release", null, 404 },
        { "booking", "POST", "/reservations", """{"roomId":"{room}","customerId":"ada","from":"2030-01-01","to":"2030-01-03","orderId":"{unknown}"}""", 401 },
        { "booking", "POST", "/reservations/{unknown}/confirm", null, 401 },
        // Order (POST /orders also lacks its Idempotency-Key, except where the key is the only fault)
        { "order", "POST", "/orders", """{"customerId":"ada","roomId":"{room}","from":"2030-01-01","to":"2030-01-03","amount":10}""", 400 },
        { "order", "POST!", "/orders", """{"customerId":""", 400 },
        { "order", "POST!", "/orders", """{"customerId":7,"roomId":"room","from":"soon","to":false,"amount":"ten"}""", 400 },
        { "order", "POST!", "/orders", "{}", 400 },
        { "order", "POST!", "/orders", """{"customerId":"ada","roomId":"{room}","from":"2030-01-01","to":"2030-01-03","amount":-5}""", 400 },
        { "order", "POST!", "/orders", """{"customerId":"ada","roomId":"{room}","from":"2020-01-01","to":"2020-01-03","amount":10}""", 400 },
        { "order", "POST!", "/orders", """{"customerId":"ada","roomId":"{room}","from":"2030-01-01","to":"2030-03-01","amount":10}""", 400 },
        { "order", "POST!", "/orders", """{"customerId":"ada","roomId":"{room}","from":"2099-01-01","to":"2099-01-03","amount":10}""", 400 },
        { "order", "POST!", "/orders", Oversized, 413 },
        { "order", "GET", "/orders", null, 400 },
        { "order", "GET", "/orders?customerId=ada&limit=1000", null, 400 },
        { "order", "GET", "/orders?customerId=ada&cursor=%%%", null, 400 },
        { "order", "GET", "/orders/{unknown}", null, 404 },
        { "order", "POST", "/orders/{unknown}/cancel", null, 404 },
        { "order", "POST", "/payment-confirmations", "{}", 400 },
        { "order", "POST", "/payment-confirmations", """{"paymentId":""", 400 },
        { "order", "POST", "/payment-confirmations", """{"paymentId":"{unknown}"}""", 404 },
        // Notification
        { "notification", "GET", "/users/ada/notifications?limit=0", null, 400 },
        { "notification", "GET", "/users/ada/notifications?cursor=not-a-cursor", null, 400 },
        { "notification", "POST", "/users/ada/notifications/not-a-guid/read", null, 400 },
        { "notification", "POST", "/users/ada/notifications/{unknown}/read", null, 404 },
        // The payment provider's admin API
        { "payments", "PUT", "/admin/behaviour", """{"latencyMs":-1,"declineRate":2,"errorRate":0}""", 400 },
        { "payments", "PUT", "/admin/behaviour", """{"latencyMs":""", 400 },
    };

    [Theory]
    [MemberData(nameof(Requests))]
    public async Task Bad_input_gets_a_problem_and_changes_nothing(string service, string method, string path, string? body, int expectedStatus)
    {
        var room = await new Journey(system).CreateRoomAsync();
        var before = await SnapshotAsync();

        using var request = new HttpRequestMessage(new HttpMethod(method.TrimEnd('!')), new Uri(system.App.GetEndpoint(service, "http"), Fill(path, room)));
        if (body is not null)
        {
            request.Content = new StringContent(Fill(body, room), Encoding.UTF8, "application/json");
            // The client waits for the server's go-ahead before it sends a body, so that a body refused unread (413) is
            // answered rather than cut off mid-send when the server closes the connection.
            request.Headers.ExpectContinue = true;
        }

        if (method.EndsWith('!'))
        {
            request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
        }

        if (service.EndsWith("-dapr", StringComparison.Ordinal))
        {
            var model = system.App.Services.GetRequiredService<DistributedApplicationModel>();
            request.Headers.Add("dapr-api-token", await model.Resources.OfType<ParameterResource>().Single(parameter => parameter.Name == "dapr-api-token").GetValueAsync(Cancellation));
        }

        using var response = await Client.SendAsync(request, Cancellation);

        await response.ReadProblemAsync((HttpStatusCode)expectedStatus);
        Assert.Equal(before, await SnapshotAsync());
    }

    private static string Fill(string text, Guid room) =>
        text.Replace("{room}", room.ToString(), StringComparison.Ordinal).Replace("{unknown}", Guid.NewGuid().ToString(), StringComparison.Ordinal);

    /// <summary>Every row of every table of every service database, as text: what "changes nothing" compares.</summary>
    private async Task<string> SnapshotAsync()
    {
        var snapshot = new StringBuilder();
        foreach (var database in Databases)
        {
            await using var connection = new NpgsqlConnection(await system.App.GetConnectionStringAsync(database, Cancellation));
            await connection.OpenAsync(Cancellation);
            var tables = new List<string>();
            await using (var list = new NpgsqlCommand("SELECT quote_ident(table_name) FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1", connection))
            await using (var reader = await list.ExecuteReaderAsync(Cancellation))
            {
                while (await reader.ReadAsync(Cancellation))
                {
                    tables.Add(reader.GetString(0));
                }
            }

            foreach (var table in tables)
            {
                // Table names come from the catalogue, quoted by Postgres itself; nothing here is user input.
                await using var rows = new NpgsqlCommand($"SELECT coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), '') FROM {table} t", connection);
                snapshot.Append(database).Append('.').Append(table).Append('\n').Append(await rows.ExecuteScalarAsync(Cancellation)).Append('\n');
            }
        }

        return snapshot.ToString();
    }
}
