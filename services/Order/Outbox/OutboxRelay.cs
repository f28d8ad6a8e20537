using System.Diagnostics;
using System.Text.Json;
using Dapr.Client;
using Microsoft.Extensions.Options;
using Npgsql;

namespace CloudScale.Order.Outbox;

/// <summary>
/// Publishes the outbox through the Dapr sidecar. Each pass claims the oldest unpublished rows with
/// <c>FOR UPDATE SKIP LOCKED</c> (replicas take different rows instead of waiting on each other), publishes them in
/// sequence and marks them published in the same transaction. At the first failure it stops, so later rows do not
/// overtake an earlier one, counts the attempt on the row and backs off exponentially. Delivery is at least once: a
/// crash between publishing and committing publishes the row again, with the same CloudEvent id (the row id), on which
/// consumers deduplicate.
/// </summary>
internal sealed partial class OutboxRelay(
    NpgsqlDataSource dataSource, DaprClient dapr, IOptions<OutboxOptions> options, ILogger<OutboxRelay> logger) : BackgroundService
{
    private readonly OutboxOptions _options = options.Value;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var consecutiveFailures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            var pass = await PublishPassAsync(stoppingToken);
            consecutiveFailures = pass.Failed ? consecutiveFailures + 1 : 0;
            // A full batch means more are waiting: go on at once.
            if (!pass.Failed && pass.Published == _options.BatchSize)
            {
                continue;
            }

            await Task.Delay(pass.Failed ? RetryDelay(consecutiveFailures) : _options.PollInterval, stoppingToken);
        }
    }

    private TimeSpan RetryDelay(int consecutiveFailures)
    {
        var doubled = _options.PollInterval * Math.Pow(2, Math.Min(consecutiveFailures, 20));
        return doubled < _options.MaxRetryDelay ? doubled : _options.MaxRetryDelay;
    }

    private async Task<PassResult> PublishPassAsync(CancellationToken stoppingToken)
    {
        try
        {
            await using var connection = await dataSource.OpenConnectionAsync(stoppingToken);
            await using var transaction = await connection.BeginTransactionAsync(stoppingToken);
            var published = new List<Guid>();
            string? failure = null;
            foreach (var row in await ClaimAsync(connection, transaction, stoppingToken))
            {
                failure = await PublishAsync(row, stoppingToken);
                if (failure is not null)
                {
                    await ExecuteAsync(connection, transaction, "UPDATE outbox SET attempts = attempts + 1, last_error = @error WHERE id = @id",
                        [new("id", row.Id), new("error", failure)], stoppingToken);
                    break;
                }

                published.Add(row.Id);
            }

            await ExecuteAsync(connection, transaction, "UPDATE outbox SET published_at = now(), attempts = attempts + 1 WHERE id = ANY(@ids)",
                [new("ids", published.ToArray())], stoppingToken);
            await transaction.CommitAsync(stoppingToken);
            return new PassResult(published.Count, Failed: failure is not null);
        }
        catch (Exception exception) when (exception is NpgsqlException or TimeoutException)
        {
            LogDatabaseUnavailable(logger, exception);
            return new PassResult(0, Failed: true);
        }
    }

    /// <summary>Hands the row to the sidecar; what went wrong, or null when it was published.</summary>
    private async Task<string?> PublishAsync(OutboxRow row, CancellationToken stoppingToken)
    {
        using var payload = JsonDocument.Parse(row.Payload);
        // Published in the trace of the change that wrote it, not of this pass: the sidecar carries it into the CloudEvent.
        var cause = ActivityContext.TryParse(row.TraceParent, traceState: null, out var writer) ? writer : default;
        using var span = OrderTelemetry.Source.StartActivity($"{row.Topic} publish", ActivityKind.Producer, cause);
        span?.SetTag("messaging.system", "dapr");
        span?.SetTag("messaging.destination.name", row.Topic);
        span?.SetTag("messaging.message.id", row.Id.ToString());
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["cloudevent.id"] = row.Id.ToString(),
            ["cloudevent.type"] = row.CloudEventType,
        };
        try
        {
            await dapr.PublishEventAsync(_options.PubSubName, row.Topic, payload.RootElement, metadata, stoppingToken);
            OrderTelemetry.OutboxPublishes.Add(1, new KeyValuePair<string, object?>("outcome", "published"));
            return null;
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
        {
            // Whatever the sidecar or the way to it did (unreachable, refused, timed out, circuit open), the row waits for the next pass.
            span?.SetStatus(ActivityStatusCode.Error, exception.Message);
            OrderTelemetry.OutboxPublishes.Add(1, new KeyValuePair<string, object?>("outcome", "failed"));
            LogPublishFailed(logger, row.Id, row.Topic, exception);
            return exception.Message;
        }
    }

    private async Task<IReadOnlyList<OutboxRow>> ClaimAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        await using var claim = new NpgsqlCommand("""
            SELECT id, topic, cloudevent_type, payload::text, traceparent FROM outbox
            WHERE published_at IS NULL
            ORDER BY sequence
            LIMIT @batchSize
            FOR UPDATE SKIP LOCKED
            """, connection, transaction);
        claim.Parameters.AddWithValue("batchSize", _options.BatchSize);
        await using var reader = await claim.ExecuteReaderAsync(cancellationToken);
        var rows = new List<OutboxRow>();
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(new OutboxRow(reader.GetGuid(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.IsDBNull(4) ? null : reader.GetString(4)));
        }

        return rows;
    }

    private static async Task ExecuteAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, NpgsqlParameter[] parameters, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        command.Parameters.AddRange(parameters);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private sealed record OutboxRow(Guid Id, string Topic, string CloudEventType, string Payload, string? TraceParent);
    private readonly record struct PassResult(int Published, bool Failed);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Publishing outbox event {EventId} to {Topic} failed; it is retried with backoff")]
    private static partial void LogPublishFailed(ILogger logger, Guid eventId, string topic, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The outbox could not be read; retrying with backoff")]
    private static partial void LogDatabaseUnavailable(ILogger logger, Exception exception);
}
