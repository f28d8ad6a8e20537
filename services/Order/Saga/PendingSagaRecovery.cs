using CloudScale.ServiceDefaults.Paging;
using CloudScale.Order.Orders;
using Microsoft.Extensions.Options;

namespace CloudScale.Order.Saga;

/// <summary>
/// Starts the saga of any order that has been pending for <see cref="BookingSagaOptions.RecoveryAge"/> without one: the
/// order was committed, then the process died before it scheduled the saga, and the client never retried. Every replica
/// runs it; starting a saga that exists is refused, so they cannot start one twice, and an order whose saga ended while
/// it stayed pending is logged as an error on every pass rather than run again.
/// </summary>
internal sealed partial class PendingSagaRecovery(
    OrderStore orders, BookingSagas sagas, IOptions<BookingSagaOptions> options, TimeProvider clock, ILogger<PendingSagaRecovery> logger) : BackgroundService
{
    private const int BatchSize = 100;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.RecoveryInterval, clock);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await RecoverAsync(stoppingToken);
            }
            catch (Exception exception) when (exception is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                LogPassFailed(logger, exception);
            }
        }
    }

    private async Task RecoverAsync(CancellationToken cancellationToken)
    {
        var olderThan = clock.GetUtcNow() - options.Value.RecoveryAge;
        KeysetCursor? after = null;
        while (true)
        {
            var pending = await orders.ListPendingAsync(olderThan, after, BatchSize, cancellationToken);
            foreach (var order in pending)
            {
                if (await sagas.EnsureStartedAsync(order, cancellationToken))
                {
                    LogRecovered(logger, order.Id);
                }
            }

            if (pending.Count < BatchSize)
            {
                return;
            }

            after = new KeysetCursor(pending[^1].CreatedAt, pending[^1].Id);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Order {OrderId} was pending without a saga; its saga is started now")]
    private static partial void LogRecovered(ILogger logger, Guid orderId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Looking for pending orders without a saga failed; the next pass tries again")]
    private static partial void LogPassFailed(ILogger logger, Exception exception);
}
