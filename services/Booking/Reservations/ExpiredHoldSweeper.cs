using Microsoft.Extensions.Options;
using Npgsql;

namespace CloudScale.Booking.Reservations;

/// <summary>
/// Marks lapsed holds expired every <see cref="BookingOptions.ExpirySweepInterval"/>, in batches. Every replica runs
/// one; SKIP LOCKED lets them share the work instead of queueing on the same rows.
/// </summary>
internal sealed partial class ExpiredHoldSweeper(ReservationStore reservations, IOptions<BookingOptions> options, ILogger<ExpiredHoldSweeper> logger)
    : BackgroundService
{
    private const int BatchSize = 500;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.ExpirySweepInterval);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await SweepAsync(stoppingToken);
            }
            catch (Exception exception) when (exception is NpgsqlException or TimeoutException)
            {
                // Postgres may be back by the next tick; until then lapsed holds still stop blocking at their deadline.
                LogSweepFailed(logger, exception);
            }
        }
    }

    private async Task SweepAsync(CancellationToken cancellationToken)
    {
        using var activity = BookingTelemetry.Source.StartActivity("booking.holds.expire");
        int expired, total = 0;
        do
        {
            expired = await reservations.ExpireLapsedHoldsAsync(BatchSize, cancellationToken);
            total += expired;
        }
        while (expired == BatchSize);

        activity?.SetTag("booking.holds.expired", total);
        if (total > 0)
        {
            BookingTelemetry.ExpiredHolds.Add(total);
            LogExpired(logger, total);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Marked {Count} lapsed holds expired")]
    private static partial void LogExpired(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sweeping lapsed holds failed; retrying at the next interval")]
    private static partial void LogSweepFailed(ILogger logger, Exception exception);
}
