using CloudScale.Testing;

namespace CloudScale.Notification.Tests;

public sealed class ErrorHygieneTests(TestServers servers)
{
    [Fact]
    public async Task In_development_no_answer_carries_a_stack_trace_an_exception_type_or_a_request_header()
    {
        await using var service = await NotificationService.StartAsync(
            await servers.CreateDatabaseAsync(), (await servers.RedisAsync()).ConnectionString, environment: "Development");

        await ErrorHygiene.AssertNothingLeaksAsync(
            service.Client,
            ["POST /integration-events/order.confirmed", "POST /users/ada/notifications/not-an-id/read"],
            ["/users/ada/notifications?limit=many&cursor=%25zz", "/users/" + new string('u', 300) + "/notifications/unread-count"]);
    }
}
