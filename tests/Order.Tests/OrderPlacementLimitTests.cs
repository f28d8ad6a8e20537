using Aspire.Hosting.Dapr;
using System.Net;
using CloudScale.Order.Orders;
using CloudScale.ServiceDefaults.Errors;
using CloudScale.Testing;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Logging;
using static CloudScale.Order.Tests.OrderClient;

namespace CloudScale.Order.Tests;

/// <summary>Each customer may place three orders, and gets one back every ten minutes (none within a test).</summary>
public sealed class OrderPlacementLimitTests(TestServers servers)
{
    private static readonly Dictionary<string, string?> ThreeOrders = new(StringComparer.Ordinal)
    {
        ["OrderPlacementLimit:TokenLimit"] = "3",
        ["OrderPlacementLimit:TokensPerPeriod"] = "1",
        ["OrderPlacementLimit:ReplenishmentPeriod"] = "00:10:00",
    };

    [Fact]
    public async Task Two_replicas_share_a_customers_limit_and_answer_429_with_Retry_After_beyond_it()
    {
        var database = await servers.CreateDatabaseAsync();
        var redis = (await servers.RedisAsync()).ConnectionString;
        await using var sidecar = await OrderService.StartSidecarAsync(redis);
        await using var first = await OrderService.StartOrderAsync(database, redis, sidecar.Settings, ThreeOrders);
        await using var second = await OrderService.StartOrderAsync(database, redis, sidecar.Settings, ThreeOrders);
        var customer = $"limited-{Guid.NewGuid():N}";

        HttpClient[] replicas = [first.Client, second.Client, first.Client];
        foreach (var replica in replicas)
        {
            using var accepted = await replica.PlaceOrderAsync(OrderBody(customerId: customer), Guid.NewGuid().ToString());
            Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        }

        foreach (var replica in new[] { second.Client, first.Client })
        {
            using var refused = await replica.PlaceOrderAsync(OrderBody(customerId: customer), Guid.NewGuid().ToString());
            var problem = await refused.ReadAsync<ProblemDetails>((HttpStatusCode)429);
            Assert.Equal((429, "too-many-orders"), (problem.Status, DomainProblem.ShortType(problem.Type)));
            var retryAfter = refused.Headers.RetryAfter?.Delta ?? throw new Xunit.Sdk.XunitException("No Retry-After delta-seconds.");
            Assert.InRange(retryAfter, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(10));
            Assert.Contains($"try again in {retryAfter.TotalSeconds:0} s", problem.Detail, StringComparison.Ordinal);
        }

        using var otherCustomer = await second.Client.PlaceOrderAsync(OrderBody(customerId: $"other-{Guid.NewGuid():N}"), Guid.NewGuid().ToString());
        Assert.Equal(HttpStatusCode.Accepted, otherCustomer.StatusCode);
        Assert.Equal(3, await Sql.ScalarAsync<long>(database, "SELECT count(*) FROM orders WHERE customer_id = @customer", ("customer", customer)));
    }

    [Fact]
    public async Task Without_Redis_each_replica_limits_a_customer_on_its_own_and_says_so()
    {
        var logs = new ListLoggerProvider();
        // The sidecar keeps its workflow state in the real Redis; Order's own connection finds nothing listening.
        await using var sidecar = await OrderService.StartSidecarAsync((await servers.RedisAsync()).ConnectionString);
        var unreachableRedis = $"127.0.0.1:{LoopbackPorts.Free()},abortConnect=false,connectTimeout=200";
        await using var order = await OrderService.StartOrderAsync(await servers.CreateDatabaseAsync(), unreachableRedis, sidecar.Settings, ThreeOrders, logs: logs);
        var customer = $"limited-{Guid.NewGuid():N}";

        var statuses = new List<HttpStatusCode>();
        for (var attempt = 0; attempt < 4; attempt++)
        {
            using var response = await order.Client.PlaceOrderAsync(OrderBody(customerId: customer), Guid.NewGuid().ToString());
            statuses.Add(response.StatusCode);
        }

        Assert.Equal([HttpStatusCode.TooManyRequests], statuses.Skip(3));
        Assert.DoesNotContain(HttpStatusCode.TooManyRequests, statuses.Take(3));
        Assert.Single(logs.Entries, entry => entry.Level == LogLevel.Warning && entry.Message.StartsWith("Redis is unreachable", StringComparison.Ordinal));
    }
}
