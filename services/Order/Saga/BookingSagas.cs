using Grpc.Core;
using CloudScale.Order.Orders;
using Dapr.Workflow;
using Microsoft.Extensions.Options;

namespace CloudScale.Order.Saga;

/// <summary>Starts, signals and reads the booking saga of an order; the saga's instance id is the order's id.</summary>
internal sealed partial class BookingSagas(
    DaprWorkflowClient workflows, OrderStore orders, IOptions<BookingSagaOptions> options, ILogger<BookingSagas> logger)
{
    /// <summary>
    /// Starts the saga of a pending order unless it has one already; true when this call started it. Called for every
    /// accepted POST /orders, the repeated ones included, so that a retry also starts a saga whose first start was lost
    /// to a crash after the order's commit (and <see cref="PendingSagaRecovery"/> catches the orders nobody retries).
    /// A saga that ended while its order is still pending is never started afresh: it may have left a confirmed
    /// reservation or an authorized payment that a new run would not know about, so it is reported instead.
    /// <paramref name="order"/> may be older than the saga's state (the recovery pass reads a whole batch first), so an
    /// ended saga is reported only when the order is still pending after it ended.
    /// </summary>
    public async Task<bool> EnsureStartedAsync(CustomerOrder order, CancellationToken cancellationToken)
    {
        if (order.IsFinal)
        {
            return false;
        }

        var instanceId = BookingSagaInput.InstanceIdOf(order.Id);
        if (await ExistingSagaAsync(instanceId, cancellationToken) is { } existing)
        {
            if (existing.IsWorkflowCompleted && await IsStillPendingAsync(order.Id, cancellationToken))
            {
                LogStranded(logger, order.Id, existing.RuntimeStatus, existing.FailureDetails?.ErrorMessage);
            }

            return false;
        }

        var input = new BookingSagaInput(order.Id, order.CustomerId, order.RoomId, order.From, order.To, order.Amount, options.Value.PaymentConfirmationTimeout);
        try
        {
            await WithinSidecarTimeoutAsync(
                deadline => workflows.ScheduleNewWorkflowAsync(nameof(BookingSagaWorkflow), instanceId, input, startTime: null, deadline), cancellationToken);
            LogStarted(logger, order.Id);
            return true;
        }
        catch (RpcException)
        {
            // A concurrent duplicate of the request, or another replica's recovery pass, started it in between; anything
            // else that refused the start is no reason to accept the order.
            if (await ExistingSagaAsync(instanceId, cancellationToken) is null)
            {
                throw;
            }

            return false;
        }
    }

    /// <summary>
    /// <see cref="EnsureStartedAsync"/> for an order just accepted: when the sidecar does not answer, the order stands and
    /// <see cref="PendingSagaRecovery"/> starts its saga once it does, as after a crash between the commit and the start.
    /// </summary>
    public async Task StartOrLeaveToRecoveryAsync(CustomerOrder order, CancellationToken cancellationToken)
    {
        try
        {
            await EnsureStartedAsync(order, cancellationToken);
        }
        catch (SagaUnavailableException unavailable)
        {
            LogStartLeftToRecovery(logger, order.Id, unavailable);
        }
    }

    private async Task<bool> IsStillPendingAsync(Guid orderId, CancellationToken cancellationToken) =>
        (await orders.FindAsync(orderId, cancellationToken))?.Order.IsFinal == false;

    private async Task<WorkflowState?> ExistingSagaAsync(string instanceId, CancellationToken cancellationToken)
    {
        var state = await WithinSidecarTimeoutAsync(
            deadline => workflows.GetWorkflowStateAsync(instanceId, getInputsAndOutputs: false, deadline), cancellationToken);
        return state.Exists ? state : null;
    }

    /// <summary>A call to the sidecar that gives up after <see cref="BookingSagaOptions.SidecarTimeout"/> with <see cref="SagaUnavailableException"/>.</summary>
    private async Task<T> WithinSidecarTimeoutAsync<T>(Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(options.Value.SidecarTimeout);
        try
        {
            return await call(deadline.Token);
        }
        catch (Exception timedOut) when (timedOut is OperationCanceledException or RpcException { StatusCode: StatusCode.Cancelled }
                                         && deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new SagaUnavailableException(options.Value.SidecarTimeout, timedOut);
        }
    }

    private async Task WithinSidecarTimeoutAsync(Func<CancellationToken, Task> call, CancellationToken cancellationToken) =>
        await WithinSidecarTimeoutAsync(async deadline =>
        {
            await call(deadline);
            return true;
        }, cancellationToken);

    /// <summary>
    /// Tells the saga the customer cancelled. The order is cancelled already, so a signal that cannot be delivered (no
    /// saga, or the sidecar unreachable) is not the customer's failure: the saga finds the order cancelled when it tries to
    /// confirm it, and compensates then.
    /// </summary>
    public async Task RequestCancelAsync(Guid orderId, CancellationToken cancellationToken)
    {
        try
        {
            await WithinSidecarTimeoutAsync(
                deadline => workflows.RaiseEventAsync(BookingSagaInput.InstanceIdOf(orderId), BookingSagaEvents.CancelRequested, eventPayload: null, deadline),
                cancellationToken);
        }
        catch (RpcException unknown) when (unknown.StatusCode == StatusCode.NotFound)
        {
            // No saga: it never started (the recovery pass does not start one for a cancelled order) or was purged.
        }
        catch (Exception undelivered) when (undelivered is RpcException or SagaUnavailableException && !cancellationToken.IsCancellationRequested)
        {
            LogCancelUndelivered(logger, orderId, undelivered);
        }
    }

    /// <summary>
    /// Hands the provider's decision to the order's saga; false when the order has no saga, <see cref="SagaUnavailableException"/>
    /// when the sidecar does not answer.
    /// </summary>
    public async Task<bool> DeliverPaymentDecisionAsync(Guid orderId, PaymentDecision decision, CancellationToken cancellationToken)
    {
        try
        {
            await WithinSidecarTimeoutAsync(
                deadline => workflows.RaiseEventAsync(BookingSagaInput.InstanceIdOf(orderId), BookingSagaEvents.PaymentDecided, decision, deadline),
                cancellationToken);
            return true;
        }
        catch (RpcException unknown) when (unknown.StatusCode == StatusCode.NotFound)
        {
            return false;
        }
    }

    /// <summary>How far the order's saga got; <see cref="SagaUnavailableException"/> when the sidecar does not answer.</summary>
    public async Task<SagaProgress> GetProgressAsync(Guid orderId, CancellationToken cancellationToken)
    {
        var state = await WithinSidecarTimeoutAsync(
            deadline => workflows.GetWorkflowStateAsync(BookingSagaInput.InstanceIdOf(orderId), getInputsAndOutputs: true, deadline), cancellationToken);
        var progress = state.Exists ? state.ReadCustomStatusAs<BookingSagaProgress>() : null;
        return new SagaProgress(state.RuntimeStatus.ToString().ToUpperInvariant(), progress?.Step, progress?.ReservationId, progress?.PaymentId);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The cancel of order {OrderId} did not reach its saga; the saga compensates when it finds the order cancelled")]
    private static partial void LogCancelUndelivered(ILogger logger, Guid orderId, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The booking saga of order {OrderId} was not started: the sidecar did not answer; the recovery pass starts it once it does")]
    private static partial void LogStartLeftToRecovery(ILogger logger, Guid orderId, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Started the booking saga of order {OrderId}")]
    private static partial void LogStarted(ILogger logger, Guid orderId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Order {OrderId} is pending but its booking saga ended {RuntimeStatus} ({Failure}); it is not restarted and needs an operator")]
    private static partial void LogStranded(ILogger logger, Guid orderId, WorkflowRuntimeStatus runtimeStatus, string? failure);
}
