using System.Diagnostics;
using CloudScale.Order.Api;
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
    /// retry with the same Idempotency-Key and body is answered the same way, with the first order.
    /// </summary>
    public static async Task<Results<Accepted<CustomerOrder>, ValidationProblem, ProblemHttpResult>> PlaceOrderAsync(
        PlaceOrderRequest request,
        [FromHeader(Name = PlaceOrderRequest.IdempotencyKeyHeader)] string? idempotencyKey,
        OrderStore orders,
        CancellationToken cancellationToken)
    {
        var (order, errors) = request.Validate(idempotencyKey, DateOnly.FromDateTime(DateTime.UtcNow));
        if (order is null)
        {
            return errors.ToProblem();
        }

        var outcome = await orders.PlaceAsync(order, cancellationToken);
        OrderTelemetry.PlaceOrders.Add(1, new KeyValuePair<string, object?>("outcome", outcome.GetType().Name));
        return outcome switch
        {
            PlaceOrderOutcome.Created(var created) => TypedResults.Accepted($"/orders/{created.Id}", created),
            PlaceOrderOutcome.Replayed(var first) => TypedResults.Accepted($"/orders/{first.Id}", first),
            PlaceOrderOutcome.KeyReused => Problems.IdempotencyKeyReused(order.IdempotencyKey),
            _ => throw new UnreachableException($"Unknown place-order outcome {outcome}."),
        };
    }

    /// <summary>The order and the saga's progress so far.</summary>
    public static async Task<Results<Ok<OrderDetails>, ProblemHttpResult>> GetOrderAsync(
        Guid id, OrderStore orders, CancellationToken cancellationToken) =>
        await orders.FindAsync(id, cancellationToken) is { } details
            ? TypedResults.Ok(details)
            : Problems.OrderNotFound(id);

    public static async Task<Results<Ok<OrderPage>, ValidationProblem>> ListOrdersAsync(
        [AsParameters] ListOrdersRequest request, OrderStore orders, CancellationToken cancellationToken)
    {
        var errors = request.Validate();
        return errors.IsEmpty ? TypedResults.Ok(await orders.ListAsync(request, cancellationToken)) : errors.ToProblem();
    }

    /// <summary>Cancels a pending order for the customer and announces it (<c>order.cancelled</c>); a final order answers 409.</summary>
    public static async Task<Results<Ok<CustomerOrder>, ProblemHttpResult>> CancelOrderAsync(
        Guid id, OrderStore orders, CancellationToken cancellationToken) =>
        await orders.CancelAsync(id, CancellationReasons.CustomerCancelled, cancellationToken) switch
        {
            (null, _) => Problems.OrderNotFound(id),
            ({ } cancelled, true) => TypedResults.Ok(cancelled),
            ({ } final, false) => Problems.OrderAlreadyFinal(final),
        };
}
