using System.Diagnostics;
using System.Text.Json;
using CloudScale.Order.IntegrationEvents;
using Npgsql;
using NpgsqlTypes;

namespace CloudScale.Order.Outbox;

/// <summary>
/// Writes an integration event into the outbox inside the caller's transaction: the event exists exactly when the state
/// change that caused it was committed, and <see cref="OutboxRelay"/> publishes it afterwards.
/// </summary>
internal static class OutboxWriter
{
    /// <summary>The JSON the events are published in; the consumers read <c>JsonSerializerDefaults.Web</c>.</summary>
    public static readonly JsonSerializerOptions PayloadJson = new(JsonSerializerDefaults.Web);

    /// <summary>Adds <paramref name="integrationEvent"/>; the row id becomes the CloudEvent id, on which consumers deduplicate.</summary>
    public static async Task<Guid> AddAsync<TEvent>(
        NpgsqlConnection connection, NpgsqlTransaction transaction, TEvent integrationEvent, CancellationToken cancellationToken)
        where TEvent : IIntegrationEvent
    {
        var id = Guid.CreateVersion7();
        await using var insert = new NpgsqlCommand(
            "INSERT INTO outbox (id, topic, cloudevent_type, payload, traceparent) VALUES (@id, @topic, @type, @payload, @traceparent)", connection, transaction);
        insert.Parameters.AddWithValue("id", id);
        insert.Parameters.AddWithValue("topic", TEvent.Topic);
        insert.Parameters.AddWithValue("type", TEvent.CloudEventType);
        insert.Parameters.AddWithValue("payload", NpgsqlDbType.Jsonb, JsonSerializer.Serialize(integrationEvent, PayloadJson));
        insert.Parameters.AddWithValue("traceparent", NpgsqlDbType.Text, Activity.Current is { IdFormat: ActivityIdFormat.W3C } current ? current.Id! : DBNull.Value);
        await insert.ExecuteNonQueryAsync(cancellationToken);
        return id;
    }
}
