using Npgsql;

namespace CloudScale.Booking.Rooms;

/// <summary>Rooms in Postgres. Every statement is parameterised; README.md lists the index each query uses.</summary>
internal sealed class RoomStore(NpgsqlDataSource dataSource)
{
    private const string Columns = "id, name, city, capacity, price_per_night, version";

    public async Task<Room> CreateAsync(RoomDetails details, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"""
            INSERT INTO rooms (id, name, city, capacity, price_per_night)
            VALUES (@id, @name, @city, @capacity, @pricePerNight)
            RETURNING {Columns}
            """);
        // Version 7 ids are time-ordered, so new rows land at the right edge of the primary key instead of all over it.
        command.Parameters.AddWithValue("id", Guid.CreateVersion7());
        AddDetails(command, details);
        return (await ReadAllAsync(command, cancellationToken))[0];
    }

    /// <summary>
    /// Replaces the room's details if its version is one of <paramref name="expectedVersions"/> (any version when null);
    /// null when the room does not exist or is at another version.
    /// </summary>
    public async Task<Room?> UpdateAsync(Guid id, RoomDetails details, int[]? expectedVersions, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"""
            UPDATE rooms
            SET name = @name, city = @city, capacity = @capacity, price_per_night = @pricePerNight,
                version = version + 1, updated_at = now()
            WHERE id = @id AND (@expectedVersions::integer[] IS NULL OR version = ANY (@expectedVersions))
            RETURNING {Columns}
            """);
        command.Parameters.AddWithValue("id", id);
        command.Parameters.Add(new NpgsqlParameter<int[]?>("expectedVersions", expectedVersions));
        AddDetails(command, details);
        return (await ReadAllAsync(command, cancellationToken)).SingleOrDefault();
    }

    public async Task<Room?> FindAsync(Guid id, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"SELECT {Columns} FROM rooms WHERE id = @id");
        command.Parameters.AddWithValue("id", id);
        return (await ReadAllAsync(command, cancellationToken)).SingleOrDefault();
    }

    /// <summary>One page in keyset order (price per night, id), starting after the request's cursor.</summary>
    public async Task<RoomPage> ListAsync(ListRoomsRequest request, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand();
        // Only the filters given become conditions, so that each combination is a plain range scan of one index
        // (a catch-all "@city IS NULL OR city = @city" would defeat the index under a generic plan).
        var conditions = new List<string>();
        void Where(string condition, params (string Name, object Value)[] parameters)
        {
            conditions.Add(condition);
            foreach (var (name, value) in parameters)
            {
                command.Parameters.AddWithValue(name, value);
            }
        }

        if (request.City is { } city)
        {
            Where("city = @city", ("city", city));
        }

        if (request.MinCapacity is { } minCapacity)
        {
            Where("capacity >= @minCapacity", ("minCapacity", minCapacity));
        }

        if (request.MaxPricePerNight is { } maxPricePerNight)
        {
            Where("price_per_night <= @maxPricePerNight", ("maxPricePerNight", maxPricePerNight));
        }

        if (request.After is { } after)
        {
            Where("(price_per_night, id) > (@afterPrice, @afterId)", ("afterPrice", after.PricePerNight), ("afterId", after.Id));
        }

        var where = conditions.Count == 0 ? "" : "WHERE " + string.Join(" AND ", conditions);
        command.CommandText = $"SELECT {Columns} FROM rooms {where} ORDER BY price_per_night, id LIMIT @take";
        // One row beyond the page says whether another page follows, without a COUNT.
        command.Parameters.AddWithValue("take", request.PageSize + 1);

        var rooms = await ReadAllAsync(command, cancellationToken);
        return rooms.Count > request.PageSize
            ? new RoomPage(rooms[..request.PageSize], RoomCursor.After(rooms[request.PageSize - 1]).Encode())
            : new RoomPage(rooms, NextCursor: null);
    }

    private static void AddDetails(NpgsqlCommand command, RoomDetails details)
    {
        command.Parameters.AddWithValue("name", details.Name);
        command.Parameters.AddWithValue("city", details.City);
        command.Parameters.AddWithValue("capacity", details.Capacity);
        command.Parameters.AddWithValue("pricePerNight", details.PricePerNight);
    }

    private static async Task<List<Room>> ReadAllAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var rooms = new List<Room>();
        while (await reader.ReadAsync(cancellationToken))
        {
            rooms.Add(new Room(reader.GetGuid(0), reader.GetString(1), reader.GetString(2), reader.GetInt32(3), reader.GetDecimal(4), reader.GetInt32(5)));
        }

        return rooms;
    }
}
