using System.Net;
using CloudScale.Order.Orders;
using CloudScale.Testing;
using static CloudScale.Order.Tests.OrderClient;

namespace CloudScale.Order.Tests;

public sealed class OrderListingTests(OrderListingTests.History history) : IClassFixture<OrderListingTests.History>
{
    private readonly HttpClient _client = history.Client;

    /// <summary>A database of its own with 23 orders of one customer, placed concurrently (so creation times tie), and 5 of another.</summary>
    public sealed class History(TestServers servers) : OrderServiceFixture(servers)
    {
        internal IReadOnlyList<CustomerOrder> Frank { get; private set; } = [];

        public override async ValueTask InitializeAsync()
        {
            await base.InitializeAsync();
            Frank = await PlaceAsync("frank", 23);
            await PlaceAsync("grace", 5);
        }

        private async Task<CustomerOrder[]> PlaceAsync(string customerId, int count) =>
            await Task.WhenAll(Enumerable.Range(0, count).Select(async index =>
            {
                using var response = await Client.PlaceOrderAsync(OrderBody(customerId, amount: 10m + index), Guid.NewGuid().ToString());
                return await response.ReadAsync<CustomerOrder>(HttpStatusCode.Accepted);
            }));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(23)]
    [InlineData(100)]
    public async Task Following_next_cursor_walks_every_order_of_the_customer_once_newest_first(int limit)
    {
        var expected = history.Frank
            // Postgres orders uuids by their bytes, which is the order of their hex text.
            .OrderByDescending(placed => placed.CreatedAt).ThenByDescending(placed => placed.Id.ToString("N"), StringComparer.Ordinal)
            .Select(placed => placed.Id)
            .ToList();

        var walked = new List<Guid>();
        string? cursor = null;
        do
        {
            var page = await (await _client.FetchAsync($"/orders?customerId=frank&limit={limit}{(cursor is null ? "" : $"&cursor={cursor}")}"))
                .ReadAsync<OrderPage>(HttpStatusCode.OK);
            Assert.InRange(page.Items.Count, 1, limit);
            walked.AddRange(page.Items.Select(placed => placed.Id));
            cursor = page.NextCursor;
        }
        while (cursor is not null);

        Assert.Equal(expected, walked);
    }

    [Fact]
    public async Task A_customer_without_orders_gets_an_empty_last_page()
    {
        var page = await (await _client.FetchAsync("/orders?customerId=nobody")).ReadAsync<OrderPage>(HttpStatusCode.OK);

        Assert.Empty(page.Items);
        Assert.Null(page.NextCursor);
    }

    [Theory]
    [InlineData("/orders", "customerId")]
    [InlineData("/orders?customerId=frank&limit=0", "limit")]
    [InlineData("/orders?customerId=frank&limit=101", "limit")]
    [InlineData("/orders?customerId=frank&cursor=not-a-cursor", "cursor")]
    [InlineData("/orders?customerId=frank&cursor=MTIzfnh5eg", "cursor")]
    public async Task A_bad_query_is_a_validation_problem(string path, string field)
    {
        using var response = await _client.FetchAsync(path);

        await response.AssertFieldErrorAsync(field);
    }
}
