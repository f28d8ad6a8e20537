using CloudScale.ServiceDefaults.Errors;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using CloudScale.Order.Api;

namespace CloudScale.Order.Orders;

/// <summary>The body of POST /orders: book <see cref="RoomId"/> from <see cref="From"/> to <see cref="To"/> for <see cref="Amount"/>.</summary>
internal sealed record PlaceOrderRequest(string? CustomerId, Guid? RoomId, DateOnly? From, DateOnly? To, decimal? Amount)
{
    public const int MaxNights = 30;

    /// <summary>Booking takes stays ending at most this many days ahead; a later one is refused here rather than by the saga.</summary>
    public const int MaxDaysAhead = 730;
    public const int MaxCustomerIdLength = 100;
    public const int MaxIdempotencyKeyLength = 200;
    public const decimal MaxAmount = 1_000_000m;
    public const string IdempotencyKeyHeader = "Idempotency-Key";

    /// <summary>The order this request asks for under <paramref name="idempotencyKey"/>, or what is wrong with either.</summary>
    public (NewOrder? Order, FieldErrors Errors) Validate(string? idempotencyKey, DateOnly today)
    {
        var errors = new FieldErrors()
            .When(string.IsNullOrWhiteSpace(idempotencyKey), IdempotencyKeyHeader, "An Idempotency-Key header is required, one new key per order.")
            .When(idempotencyKey?.Length > MaxIdempotencyKeyLength, IdempotencyKeyHeader, $"The Idempotency-Key may have at most {MaxIdempotencyKeyLength} characters.")
            .When(string.IsNullOrWhiteSpace(CustomerId), "customerId", "A customer id is required.")
            .When(CustomerId?.Length > MaxCustomerIdLength, "customerId", $"The customer id may have at most {MaxCustomerIdLength} characters.")
            .When(RoomId is null || RoomId == Guid.Empty, "roomId", "A room id is required.")
            .When(From < today, "from", "The stay cannot start in the past.")
            .WhenNotADateRange(From, To, MaxNights)
            .When(To > today.AddDays(MaxDaysAhead), "to", $"Stays can be booked at most {MaxDaysAhead} days ahead.")
            .When(Amount is null, "amount", "An amount is required.")
            .When(Amount is <= 0 or > MaxAmount, "amount", $"The amount must be above 0 and at most {MaxAmount}.")
            .When(Amount is { } amount && decimal.Round(amount, 2) != amount, "amount", "The amount may have at most two decimals.");
        return this is { CustomerId: { } customerId, RoomId: { } roomId, From: { } from, To: { } to, Amount: { } total } && errors.IsEmpty
            ? (new NewOrder(idempotencyKey!, customerId, roomId, from, to, total), errors)
            : (null, errors);
    }
}

/// <summary>A validated <see cref="PlaceOrderRequest"/> and the key it was sent with.</summary>
internal sealed record NewOrder(string IdempotencyKey, string CustomerId, Guid RoomId, DateOnly From, DateOnly To, decimal Amount)
{
    /// <summary>
    /// A fingerprint of what was asked, not of how it was written: the same order sent with other whitespace, property
    /// order or <c>100</c> for <c>100.00</c> is the same request, so a retry is never mistaken for a reuse of the key.
    /// </summary>
    public string RequestHash()
    {
        var canonical = string.Create(CultureInfo.InvariantCulture, $"{CustomerId}\n{RoomId:N}\n{From:yyyy-MM-dd}\n{To:yyyy-MM-dd}\n{Amount:0.00}");
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)));
    }
}

/// <summary>What came of POST /orders.</summary>
internal abstract record PlaceOrderOutcome
{
    public sealed record Created(CustomerOrder Order) : PlaceOrderOutcome;

    /// <summary>The key was used before for this same request: the first order, answered again.</summary>
    public sealed record Replayed(CustomerOrder Order) : PlaceOrderOutcome;

    /// <summary>The key was used before for a different request.</summary>
    public sealed record KeyReused : PlaceOrderOutcome;
}
