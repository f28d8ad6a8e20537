using System.Diagnostics;
using CloudScale.Order.Api;
using CloudScale.Order.Saga;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace CloudScale.Order.Orders;

/// <summary>Placing, reading, listing and cancelling orders.</summary>
internal static class OrdersApi
{
    public static RouteGroupBuilder MapOrdersApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/orders").WithTags("Orders");
        api.MapPost("/", PlaceOrderAsync);
        api.MapGet("/{id:guid}", GetOrderAsync);
        api.MapGet("/", ListOrdersAsync);
        api.MapPost("/{id:guid}/cancel", CancelOrderAsync);
        return api;
    }

    /// <summary>
    /// Accepts an order in status pending (the booking saga takes it from there) at <c>Location: /orders/{id}</c>. A
    /// retry with the same Idempotency-Key and body is answered the same way, with the first order. A customer over
    /// <see cref="OrderPlacementLimit"/> gets 429 with <c>Retry-After</c>; a retry counts against the limit too.
    /// </summary>
    public static async Task<Results<Accepted<CustomerOrder>, ValidationProblem, ProblemHttpResult>> PlaceOrderAsync(
        PlaceOrderRequest request,
        [FromHeader(Name = PlaceOrderRequest.IdempotencyKeyHeader)] string? idempotencyKey,
        OrderStore orders,
        BookingSagas sagas,
        OrderPlacementLimit placementLimit,
        HttpResponse response,
        CancellationToken cancellationToken)
    {
        var (order, errors) = request.Validate(idempotencyKey, DateOnly.FromDateTime(DateTime.UtcNow));
        if (order is null)
        {
            return errors.ToProblem();
        }

        if (await placementLimit.TryTakeAsync(order.CustomerId, cancellationToken) is { } retryAfter)
        {
            OrderTelemetry.PlaceOrders.Add(1, new KeyValuePair<string, object?>("outcome", "RateLimited"));
            return Problems.TooManyOrders(response, order.CustomerId, retryAfter);
        }

        var outcome = await orders.PlaceAsync(order, cancellationToken);
        OrderTelemetry.PlaceOrders.Add(1, new KeyValuePair<string, object?>("outcome", outcome.GetType().Name));
        var accepted = outcome switch
        {
            PlaceOrderOutcome.Created(var created) => created,
            PlaceOrderOutcome.Replayed(var first) => first,
            PlaceOrderOutcome.KeyReused => null,
            _ => throw new UnreachableException($"Unknown place-order outcome {outcome}."),
        };
        if (accepted is null)
        {
            return Problems.IdempotencyKeyReused(order.IdempotencyKey);
        }

        await sagas.StartOrLeaveToRecoveryAsync(accepted, cancellationToken);
        return TypedResults.Accepted($"/orders/{accepted.Id}", accepted);
    }

    /// <summary>The order, its status history and the saga's progress so far; 503 while the sidecar does not answer.</summary>
    public static async Task<Results<Ok<OrderDetails>, ProblemHttpResult>> GetOrderAsync(
        Guid id, OrderStore orders, BookingSagas sagas, HttpResponse response, CancellationToken cancellationToken)
    {
        // The saga first: it finishes the order before it completes, so a completed saga is never shown beside a pending order.
        SagaProgress saga;
        try
        {
            saga = await sagas.GetProgressAsync(id, cancellationToken);
        }
        catch (SagaUnavailableException)
        {
            return Problems.SagaUnavailable(response, id);
        }

        return await orders.FindAsync(id, cancellationToken) is { } stored
            ? TypedResults.Ok(new OrderDetails(stored.Order, stored.StatusHistory, saga))
            : Problems.OrderNotFound(id);
    }

    public static async Task<Results<Ok<OrderPage>, ValidationProblem>> ListOrdersAsync(
        [AsParameters] ListOrdersRequest request, OrderStore orders, CancellationToken cancellationToken)
    {
        var errors = request.Validate();
        return errors.IsEmpty ? TypedResults.Ok(await orders.ListAsync(request, cancellationToken)) : errors.ToProblem();
    }

    /// <summary>
    /// Cancels a pending order for the customer and announces it (<c>order.cancelled</c>); a final order answers 409. The
    /// saga is told and gives back what it holds (the hold, the payment authorization) in the background.
    /// </summary>
    public static async Task<Results<Ok<CustomerOrder>, ProblemHttpResult>> CancelOrderAsync(
        Guid id, OrderStore orders, BookingSagas sagas, CancellationToken cancellationToken)
    {
        switch (await orders.CancelAsync(id, CancellationReasons.CustomerCancelled, cancellationToken))
        {
            case (null, _):
                return Problems.OrderNotFound(id);
            case ({ } cancelled, true):
                await sagas.RequestCancelAsync(id, cancellationToken);
                return TypedResults.Ok(cancelled);
            case ({ } final, false):
                return Problems.OrderAlreadyFinal(final);
        }
    }
}
