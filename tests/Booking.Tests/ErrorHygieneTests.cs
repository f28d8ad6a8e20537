using CloudScale.Testing;

namespace CloudScale.Booking.Tests;

public sealed class ErrorHygieneTests(TestServers servers)
{
    [Fact]
    public async Task In_development_no_answer_carries_a_stack_trace_an_exception_type_or_a_request_header()
    {
        await using var service = await BookingService.StartAsync(
            await servers.CreateDatabaseAsync(), (await servers.RedisAsync()).ConnectionString, environment: "Development");
        var id = Guid.NewGuid();

        await ErrorHygiene.AssertNothingLeaksAsync(
            service.Client,
            ["POST /rooms", $"PUT /rooms/{id}", "POST /reservations"],
            ["/rooms?limit=many&cursor=%25zz&minPrice=cheap", $"/rooms/{id}/availability?from=soon&to=later", "/rooms/not-a-guid"]);
    }

    [Fact]
    public async Task A_room_id_that_is_not_a_guid_is_a_field_error()
    {
        await using var service = await BookingService.StartAsync(await servers.CreateDatabaseAsync(), (await servers.RedisAsync()).ConnectionString);

        using var response = await service.Client.PostJsonTextAsync(
            "/reservations", "{\"roomId\":\"room-1\",\"customerId\":\"ada\",\"from\":\"2030-01-01\",\"to\":\"2030-01-02\",\"orderId\":\"" + Guid.NewGuid() + "\"}");

        await ServiceResponses.AssertFieldErrorAsync(response, "roomId");
    }
}
