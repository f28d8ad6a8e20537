using CloudScale.ServiceDefaults.Paging;
using CloudScale.Order.IntegrationEvents;
using CloudScale.Order.Outbox;
using Npgsql;

namespace CloudScale.Order.Orders;

/// <summary>
/// Orders in Postgres. The unique idempotency key decides every race between retries of one request, and each state
/// change is one transaction with its status history and its outbox event, so replicas need no coordination.
/// </summary>
internal sealed class OrderStore(NpgsqlDataSource dataSource)
{
    private const string Columns = "id, customer_id, room_id, stay_from, stay_to, amount, status, cancellation_reason, created_at, updated_at";

    // Where request_hash lands when it is selected after Columns.
    private const int RequestHashOrdinal = 10;

    /// <summary>
    /// Creates the order unless its idempotency key was used before. Concurrent requests with one key queue on the unique
    /// index: the first commits, the others' ON CONFLICT then finds its row. Nothing is stored when anything fails, so a
    /// failed request leaves the key free for the retry.
    /// </summary>
    public async Task<PlaceOrderOutcome> PlaceAsync(NewOrder order, CancellationToken cancellationToken)
    {
        var requestHash = order.RequestHash();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var insert = new NpgsqlCommand($"""
            INSERT INTO orders (id, customer_id, room_id, stay_from, stay_to, amount, status, idempotency_key, request_hash)
            VALUES (@id, @customerId, @roomId, @from, @to, @amount, 'pending', @key, @hash)
            ON CONFLICT (idempotency_key) DO NOTHING
            RETURNING {Columns}
            """, connection, transaction);
        insert.Parameters.AddWithValue("id", Guid.CreateVersion7());
        insert.Parameters.AddWithValue("customerId", order.CustomerId);
        insert.Parameters.AddWithValue("roomId", order.RoomId);
        insert.Parameters.AddWithValue("from", order.From);
        insert.Parameters.AddWithValue("to", order.To);
        insert.Parameters.AddWithValue("amount", order.Amount);
        insert.Parameters.AddWithValue("key", order.IdempotencyKey);
        insert.Parameters.AddWithValue("hash", requestHash);
        if (await ReadSingleAsync(insert, cancellationToken) is { } created)
        {
            await RecordStatusAsync(connection, transaction, created.Id, OrderStatus.Pending, reason: null, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return new PlaceOrderOutcome.Created(created);
        }

        await using var existing = new NpgsqlCommand(
            $"SELECT {Columns}, request_hash FROM orders WHERE idempotency_key = @key", connection, transaction);
        existing.Parameters.AddWithValue("key", order.IdempotencyKey);
        await using var reader = await existing.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            throw new InvalidOperationException($"Idempotency key '{order.IdempotencyKey}' conflicted on insert but has no order.");
        }

        var first = Read(reader);
        return string.Equals(reader.GetString(RequestHashOrdinal), requestHash, StringComparison.Ordinal)
            ? new PlaceOrderOutcome.Replayed(first)
            : new PlaceOrderOutcome.KeyReused();
    }

    public async Task<StoredOrder?> FindAsync(Guid id, CancellationToken cancellationToken)
    {
        // One round trip for the order and its history.
        await using var batch = dataSource.CreateBatch();
        batch.BatchCommands.Add(new NpgsqlBatchCommand($"SELECT {Columns} FROM orders WHERE id = @id") { Parameters = { new("id", id) } });
        batch.BatchCommands.Add(new NpgsqlBatchCommand(
            "SELECT status, reason, changed_at FROM order_status_history WHERE order_id = @id ORDER BY position") { Parameters = { new("id", id) } });
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        var order = Read(reader);
        await reader.NextResultAsync(cancellationToken);
        var steps = new List<OrderStatusChange>();
        while (await reader.ReadAsync(cancellationToken))
        {
            steps.Add(new OrderStatusChange(ParseStatus(reader.GetString(0)), reader.IsDBNull(1) ? null : reader.GetString(1), reader.GetFieldValue<DateTimeOffset>(2)));
        }

        return new StoredOrder(order, steps);
    }

    /// <summary>A customer's orders, newest first, one page after the cursor (keyset: one range scan of the customer index).</summary>
    public async Task<OrderPage> ListAsync(ListOrdersRequest request, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand();
        var after = request.After;
        command.CommandText = $"""
            SELECT {Columns} FROM orders
            WHERE customer_id = @customerId {(after is null ? "" : "AND (created_at, id) < (@afterCreatedAt, @afterId)")}
            ORDER BY created_at DESC, id DESC
            LIMIT @take
            """;
        command.Parameters.AddWithValue("customerId", request.CustomerId!);
        if (after is { } cursor)
        {
            command.Parameters.AddWithValue("afterCreatedAt", cursor.CreatedAt);
            command.Parameters.AddWithValue("afterId", cursor.Id);
        }

        // One row beyond the page says whether another page follows, without a COUNT.
        command.Parameters.AddWithValue("take", request.PageSize + 1);
        var orders = await ReadAllAsync(command, cancellationToken);

        if (orders.Count <= request.PageSize)
        {
            return new OrderPage(orders, null);
        }

        var last = orders[request.PageSize - 1];
        return new OrderPage(orders[..request.PageSize], new KeysetCursor(last.CreatedAt, last.Id).Encode());
    }

    /// <summary>Orders pending since before <paramref name="createdBefore"/>, oldest first, after the cursor.</summary>
    public async Task<IReadOnlyList<CustomerOrder>> ListPendingAsync(
        DateTimeOffset createdBefore, KeysetCursor? after, int limit, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"""
            SELECT {Columns} FROM orders
            WHERE status = 'pending' AND created_at < @createdBefore {(after is null ? "" : "AND (created_at, id) > (@afterCreatedAt, @afterId)")}
            ORDER BY created_at, id
            LIMIT @limit
            """);
        command.Parameters.AddWithValue("createdBefore", createdBefore);
        command.Parameters.AddWithValue("limit", limit);
        if (after is { } cursor)
        {
            command.Parameters.AddWithValue("afterCreatedAt", cursor.CreatedAt);
            command.Parameters.AddWithValue("afterId", cursor.Id);
        }

        return await ReadAllAsync(command, cancellationToken);
    }

    /// <summary>
    /// Cancels a pending order and writes <c>order.cancelled</c> to the outbox in the same transaction. Null when there is
    /// no such order; the order as it is when it was already final.
    /// </summary>
    public Task<(CustomerOrder? Order, bool Changed)> CancelAsync(Guid id, string reason, CancellationToken cancellationToken) =>
        FinishAsync(id, OrderStatus.Cancelled, reason,
            cancelled => new OrderCancelledIntegrationEvent(cancelled.Id, cancelled.CustomerId, reason, cancelled.UpdatedAt), cancellationToken);

    /// <summary>Confirms a pending order and writes <c>order.confirmed</c> to the outbox in the same transaction; as <see cref="CancelAsync"/>.</summary>
    public Task<(CustomerOrder? Order, bool Changed)> ConfirmAsync(Guid id, CancellationToken cancellationToken) =>
        FinishAsync(id, OrderStatus.Confirmed, reason: null,
            confirmed => new OrderConfirmedIntegrationEvent(
                confirmed.Id, confirmed.CustomerId, confirmed.RoomId, confirmed.From, confirmed.To, confirmed.Amount, confirmed.UpdatedAt), cancellationToken);

    /// <summary>
    /// Moves a pending order to its final <paramref name="status"/>. Only a pending row matches the update, so a customer's
    /// cancel and the saga's confirmation racing on one order cannot both win: the row lock orders them.
    /// </summary>
    private async Task<(CustomerOrder? Order, bool Changed)> FinishAsync<TEvent>(
        Guid id, OrderStatus status, string? reason, Func<CustomerOrder, TEvent> integrationEvent, CancellationToken cancellationToken)
        where TEvent : IIntegrationEvent
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var finish = new NpgsqlCommand($"""
            UPDATE orders SET status = @status, cancellation_reason = @reason, updated_at = now()
            WHERE id = @id AND status = 'pending'
            RETURNING {Columns}
            """, connection, transaction);
        finish.Parameters.AddWithValue("id", id);
        finish.Parameters.AddWithValue("status", StatusName(status));
        finish.Parameters.AddWithValue("reason", (object?)reason ?? DBNull.Value);
        if (await ReadSingleAsync(finish, cancellationToken) is not { } finished)
        {
            await using var current = new NpgsqlCommand($"SELECT {Columns} FROM orders WHERE id = @id", connection, transaction);
            current.Parameters.AddWithValue("id", id);
            return (await ReadSingleAsync(current, cancellationToken), false);
        }

        await RecordStatusAsync(connection, transaction, id, status, reason, cancellationToken);
        await OutboxWriter.AddAsync(connection, transaction, integrationEvent(finished), cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return (finished, true);
    }

    // The order row is locked by the statement that changed it, so positions cannot race.
    private static async Task RecordStatusAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, Guid orderId, OrderStatus status, string? reason, CancellationToken cancellationToken)
    {
        await using var record = new NpgsqlCommand("""
            INSERT INTO order_status_history (order_id, position, status, reason)
            SELECT @orderId, coalesce(max(position), 0) + 1, @status, @reason FROM order_status_history WHERE order_id = @orderId
            """, connection, transaction);
        record.Parameters.AddWithValue("orderId", orderId);
        record.Parameters.AddWithValue("status", StatusName(status));
        record.Parameters.AddWithValue("reason", (object?)reason ?? DBNull.Value);
        await record.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task<List<CustomerOrder>> ReadAllAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var orders = new List<CustomerOrder>();
        while (await reader.ReadAsync(cancellationToken))
        {
            orders.Add(Read(reader));
        }

        return orders;
    }

    private static async Task<CustomerOrder?> ReadSingleAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Read(reader) : null;
    }

    private static CustomerOrder Read(NpgsqlDataReader reader) => new(
        reader.GetGuid(0),
        reader.GetString(1),
        reader.GetGuid(2),
        reader.GetFieldValue<DateOnly>(3),
        reader.GetFieldValue<DateOnly>(4),
        reader.GetDecimal(5),
        ParseStatus(reader.GetString(6)),
        reader.IsDBNull(7) ? null : reader.GetString(7),
        reader.GetFieldValue<DateTimeOffset>(8),
        reader.GetFieldValue<DateTimeOffset>(9));

    private static OrderStatus ParseStatus(string status) => Enum.Parse<OrderStatus>(status, ignoreCase: true);

    private static string StatusName(OrderStatus status) => status.ToString().ToLowerInvariant();
}
