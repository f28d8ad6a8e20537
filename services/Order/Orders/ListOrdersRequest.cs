using CloudScale.ServiceDefaults.Paging;
using CloudScale.ServiceDefaults.Errors;
using CloudScale.Order.Api;

namespace CloudScale.Order.Orders;

/// <summary>The query of GET /orders: whose orders, the cursor of the previous page and the page size.</summary>
internal sealed record ListOrdersRequest(string? CustomerId, string? Cursor, int? Limit)
{
    public const int DefaultLimit = 20;
    public const int MaxLimit = 100;

    public int PageSize => Limit ?? DefaultLimit;

    /// <summary>Where this page starts; null for the first page or a cursor that <see cref="Validate"/> rejects.</summary>
    public KeysetCursor? After => Cursor is null ? null : KeysetCursor.Decode(Cursor);

    public FieldErrors Validate() => new FieldErrors()
        .When(string.IsNullOrWhiteSpace(CustomerId), "customerId", "A customer id is required: orders are listed per customer.")
        .When(CustomerId?.Length > PlaceOrderRequest.MaxCustomerIdLength, "customerId", $"The customer id may have at most {PlaceOrderRequest.MaxCustomerIdLength} characters.")
        .When(Cursor is not null && After is null, "cursor", "The cursor is not one this service issued; pass nextCursor back unchanged.")
        .When(Limit is < 1 or > MaxLimit, "limit", $"The page size must be between 1 and {MaxLimit}.");
}
