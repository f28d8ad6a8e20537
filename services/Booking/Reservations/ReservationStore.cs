using CloudScale.Booking.Rooms;
using Microsoft.Extensions.Options;
using Npgsql;

namespace CloudScale.Booking.Reservations;

/// <summary>
/// Reservations in Postgres. The exclusion constraint <c>reservations_no_overlap</c> decides every race between holds;
/// each state change is one conditional statement, so replicas need no coordination. All time comes from the
/// database clock, the same for every replica.
/// </summary>
internal sealed class ReservationStore(NpgsqlDataSource dataSource, IOptions<BookingOptions> options)
{
    // A hold past its deadline is reported as expired even before the sweeper has marked it.
    private const string Columns = """
        id, room_id, customer_id, order_id, lower(stay), upper(stay),
        CASE WHEN status = 'held' AND expires_at <= now() THEN 'expired' ELSE status END,
        expires_at
        """;

    // Should Postgres still abort a hold as a deadlock (40P01) against another writer, it is run again: it then meets the
    // winner's committed row and is refused as unavailable. The retries are spread out at random, so that the same
    // contenders do not meet in the same cycle again and again.
    private const int HoldAttempts = 10;

    public async Task<HoldOutcome> HoldAsync(Hold hold, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await HoldOnceAsync(hold, cancellationToken);
            }
            catch (PostgresException exception) when (exception.SqlState == PostgresErrorCodes.DeadlockDetected && attempt < HoldAttempts)
            {
                // Nothing of the aborted transaction remains; the next attempt starts afresh.
                await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(1, 20 * attempt)), cancellationToken);
            }
        }
    }

    private async Task<HoldOutcome> HoldOnceAsync(Hold hold, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

        // Holds of one room queue on the room's row first, so that their inserts never meet uncommitted in the exclusion
        // check (FOR NO KEY UPDATE: other rooms' holds and the reservations' foreign-key checks are not held up). Lapsed
        // holds no longer count, but the constraint sees them until they are marked: mark the ones in the way (in id
        // order, so that two transactions clearing the same rows cannot deadlock).
        await using (var expire = new NpgsqlCommand("""
            SELECT 1 FROM rooms WHERE id = @roomId FOR NO KEY UPDATE;
            UPDATE reservations SET status = 'expired', updated_at = now()
            WHERE id IN (
                SELECT id FROM reservations
                WHERE room_id = @roomId AND stay && daterange(@from, @to) AND status = 'held' AND expires_at <= now()
                ORDER BY id
                FOR UPDATE)
            """, connection, transaction))
        {
            AddStay(expire, hold.RoomId, hold.From, hold.To);
            await expire.ExecuteNonQueryAsync(cancellationToken);
        }

        await using var insert = new NpgsqlCommand($"""
            INSERT INTO reservations (id, room_id, customer_id, order_id, stay, status, expires_at)
            VALUES (@id, @roomId, @customerId, @orderId, daterange(@from, @to), 'held', now() + @holdDuration)
            ON CONFLICT (order_id) DO NOTHING
            RETURNING {Columns}
            """, connection, transaction);
        insert.Parameters.AddWithValue("id", Guid.CreateVersion7());
        insert.Parameters.AddWithValue("customerId", hold.CustomerId);
        insert.Parameters.AddWithValue("orderId", hold.OrderId);
        insert.Parameters.AddWithValue("holdDuration", options.Value.HoldDuration);
        AddStay(insert, hold.RoomId, hold.From, hold.To);
        Reservation? created;
        try
        {
            created = await ReadSingleAsync(insert, cancellationToken);
        }
        catch (PostgresException exception) when (exception.SqlState == PostgresErrorCodes.ExclusionViolation)
        {
            return new HoldOutcome.RoomUnavailable();
        }
        catch (PostgresException exception) when (exception.SqlState == PostgresErrorCodes.ForeignKeyViolation)
        {
            return new HoldOutcome.RoomNotFound();
        }

        if (created is not null)
        {
            await transaction.CommitAsync(cancellationToken);
            return new HoldOutcome.Created(created);
        }

        // The order already has a reservation (ON CONFLICT found it): a retry of the same hold, or a different request.
        await using var existing = new NpgsqlCommand($"SELECT {Columns} FROM reservations WHERE order_id = @orderId", connection, transaction);
        existing.Parameters.AddWithValue("orderId", hold.OrderId);
        var reservation = await ReadSingleAsync(existing, cancellationToken)
            ?? throw new InvalidOperationException($"Order {hold.OrderId} conflicted on insert but has no reservation.");
        await transaction.CommitAsync(cancellationToken);
        return hold.IsRepeatOf(reservation) ? new HoldOutcome.Repeated(reservation) : new HoldOutcome.OrderAlreadyReserved(reservation);
    }

    public async Task<Reservation?> FindAsync(Guid id, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"SELECT {Columns} FROM reservations WHERE id = @id");
        command.Parameters.AddWithValue("id", id);
        return await ReadSingleAsync(command, cancellationToken);
    }

    /// <summary>Confirms a live hold; null when the reservation is missing or not a live hold.</summary>
    public Task<Reservation?> ConfirmAsync(Guid id, CancellationToken cancellationToken) => TransitionAsync($"""
        UPDATE reservations SET status = 'confirmed', expires_at = NULL, updated_at = now()
        WHERE id = @id AND status = 'held' AND expires_at > now()
        RETURNING {Columns}
        """, id, cancellationToken);

    /// <summary>Releases a live hold or a confirmed reservation; null when the reservation is missing or no longer active.</summary>
    public Task<Reservation?> ReleaseAsync(Guid id, CancellationToken cancellationToken) => TransitionAsync($"""
        UPDATE reservations SET status = 'released', updated_at = now()
        WHERE id = @id AND (status = 'confirmed' OR (status = 'held' AND expires_at > now()))
        RETURNING {Columns}
        """, id, cancellationToken);

    /// <summary>The active stays of a room that share a night with <paramref name="nights"/>.</summary>
    public async Task<IReadOnlyList<Stay>> FindActiveStaysAsync(Guid roomId, Stay nights, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT lower(stay), upper(stay) FROM reservations
            WHERE room_id = @roomId AND stay && daterange(@from, @to)
              AND status IN ('held', 'confirmed') AND (status = 'confirmed' OR expires_at > now())
            """);
        AddStay(command, roomId, nights.From, nights.To);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var stays = new List<Stay>();
        while (await reader.ReadAsync(cancellationToken))
        {
            stays.Add(new Stay(reader.GetFieldValue<DateOnly>(0), reader.GetFieldValue<DateOnly>(1)));
        }

        return stays;
    }

    /// <summary>
    /// Marks up to <paramref name="batchSize"/> lapsed holds expired, oldest deadline first; the number marked. Rows another
    /// replica's sweeper (or a confirmation) has locked are skipped, not waited for.
    /// </summary>
    public async Task<int> ExpireLapsedHoldsAsync(int batchSize, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            UPDATE reservations SET status = 'expired', updated_at = now()
            WHERE id IN (
                SELECT id FROM reservations
                WHERE status = 'held' AND expires_at <= now()
                ORDER BY expires_at
                LIMIT @batchSize
                FOR UPDATE SKIP LOCKED)
            """);
        command.Parameters.AddWithValue("batchSize", batchSize);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private async Task<Reservation?> TransitionAsync(string sql, Guid id, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(sql);
        command.Parameters.AddWithValue("id", id);
        return await ReadSingleAsync(command, cancellationToken);
    }

    private static void AddStay(NpgsqlCommand command, Guid roomId, DateOnly from, DateOnly to)
    {
        command.Parameters.AddWithValue("roomId", roomId);
        command.Parameters.AddWithValue("from", from);
        command.Parameters.AddWithValue("to", to);
    }

    private static async Task<Reservation?> ReadSingleAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        return new Reservation(
            reader.GetGuid(0),
            reader.GetGuid(1),
            reader.GetString(2),
            reader.GetGuid(3),
            reader.GetFieldValue<DateOnly>(4),
            reader.GetFieldValue<DateOnly>(5),
            Enum.Parse<ReservationStatus>(reader.GetString(6), ignoreCase: true),
            reader.IsDBNull(7) ? null : reader.GetFieldValue<DateTimeOffset>(7));
    }
}
