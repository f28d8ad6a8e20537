using CloudScale.Order.Orders;
using CloudScale.Order.Payments;
using CloudScale.Order.Saga;

namespace CloudScale.Order.Tests;

/// <summary>
/// The booking saga's decisions alone, without infrastructure: the workflow runs on a scripted
/// <see cref="ScriptedWorkflowContext"/>, every activity is a stub that records its call, and the test raises the
/// provider's and the customer's events and fires the timeout. The saga on the real SDK and sidecar against the real
/// services is in the end-to-end tests.
/// </summary>
public sealed class BookingSagaWorkflowTests
{
    private static readonly Guid ReservationId = Guid.NewGuid();
    private static readonly Guid PaymentId = Guid.NewGuid();
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    private readonly List<string> _calls = [];
    private readonly BookingSagaInput _order = new(Guid.NewGuid(), "ada", Guid.NewGuid(), new DateOnly(2030, 5, 3), new DateOnly(2030, 5, 5), 240m, Timeout);
    private readonly ScriptedWorkflowContext _context;
    private Task<BookingSagaResult>? _run;

    public BookingSagaWorkflowTests()
    {
        _context = new ScriptedWorkflowContext(BookingSagaInput.InstanceIdOf(_order.OrderId));
        Stub<BookingSagaInput, HoldResult>(nameof(HoldRoomActivity), _ => new HoldResult(ReservationId, null));
        Stub<BookingSagaInput, Guid>(nameof(AuthorizePaymentActivity), _ => PaymentId);
        Stub<Guid, bool>(nameof(ConfirmReservationActivity), _ => true);
        Stub<Guid, bool>(nameof(ConfirmOrderActivity), _ => true);
        Stub<Guid, PaymentStatus>(nameof(CapturePaymentActivity), _ => PaymentStatus.Captured);
        Stub<Guid, PaymentStatus>(nameof(VoidPaymentActivity), _ => PaymentStatus.Voided);
        Stub<Guid, bool>(nameof(ReleaseReservationActivity), _ => true);
        Stub<OrderCancellation, OrderStatus>(nameof(CancelOrderActivity), cancellation => OrderStatus.Cancelled);
    }

    [Fact]
    public async Task An_authorized_payment_books_the_room_confirms_the_order_and_captures()
    {
        StartAndWaitForPayment();

        Decide(PaymentId, authorized: true);

        var state = await EndAsync(new BookingSagaResult(OrderStatus.Confirmed, null));
        AssertCalls(
            [nameof(HoldRoomActivity), nameof(AuthorizePaymentActivity), nameof(ConfirmReservationActivity), nameof(ConfirmOrderActivity), nameof(CapturePaymentActivity)],
            _calls);
        Assert.Equal(new BookingSagaProgress(BookingSagaSteps.Confirmed, ReservationId, PaymentId), state);
    }

    [Fact]
    public async Task A_room_taken_by_another_order_cancels_without_touching_the_payment()
    {
        Stub<BookingSagaInput, HoldResult>(nameof(HoldRoomActivity), _ => new HoldResult(null, CancellationReasons.RoomUnavailable));

        Start();

        await EndAsync(new BookingSagaResult(OrderStatus.Cancelled, CancellationReasons.RoomUnavailable));
        AssertCalls([nameof(HoldRoomActivity), $"{nameof(CancelOrderActivity)}:{CancellationReasons.RoomUnavailable}"], _calls);
    }

    [Fact]
    public async Task A_declined_payment_is_voided_and_the_hold_released_before_the_order_is_cancelled()
    {
        StartAndWaitForPayment();

        Decide(PaymentId, authorized: false);

        await EndAsync(new BookingSagaResult(OrderStatus.Cancelled, CancellationReasons.PaymentDeclined));
        AssertCalls(Compensation(CancellationReasons.PaymentDeclined, paid: true), _calls.Skip(2));
    }

    [Fact]
    public async Task No_decision_within_the_timeout_compensates_as_a_timeout()
    {
        StartAndWaitForPayment();

        _context.FireTimers();

        await EndAsync(new BookingSagaResult(OrderStatus.Cancelled, CancellationReasons.PaymentTimeout));
        AssertCalls(Compensation(CancellationReasons.PaymentTimeout, paid: true), _calls.Skip(2));
    }

    [Fact]
    public async Task A_customer_cancel_while_waiting_gives_everything_back()
    {
        StartAndWaitForPayment();

        _context.RaiseEvent(BookingSagaEvents.CancelRequested, payload: null);

        await EndAsync(new BookingSagaResult(OrderStatus.Cancelled, CancellationReasons.CustomerCancelled));
        AssertCalls(Compensation(CancellationReasons.CustomerCancelled, paid: true), _calls.Skip(2));
    }

    [Fact]
    public async Task A_decision_about_another_payment_is_ignored()
    {
        StartAndWaitForPayment();

        Decide(Guid.NewGuid(), authorized: false);
        Assert.Equal(BookingSagaSteps.AwaitingPaymentConfirmation, Step);
        Decide(PaymentId, authorized: true);

        await EndAsync(new BookingSagaResult(OrderStatus.Confirmed, null));
    }

    [Fact]
    public async Task A_provider_that_keeps_failing_is_retried_by_the_policy_then_the_hold_is_released()
    {
        var attempts = 0;
        Stub<BookingSagaInput, Guid>(nameof(AuthorizePaymentActivity), _ =>
        {
            attempts++;
            throw new PaymentProviderException(HttpMethod.Post, "/payments/authorize", 503, "unavailable");
        });

        Start();

        await EndAsync(new BookingSagaResult(OrderStatus.Cancelled, CancellationReasons.PaymentFailed));
        Assert.Equal(4, attempts);
        AssertCalls(Compensation(CancellationReasons.PaymentFailed, paid: false), _calls.Skip(1).Where(call => call != nameof(AuthorizePaymentActivity)));
    }

    [Fact]
    public async Task A_booking_that_keeps_failing_to_confirm_the_hold_is_compensated()
    {
        Stub<Guid, bool>(nameof(ConfirmReservationActivity), _ => throw new InvalidOperationException("Booking answered 500."));
        StartAndWaitForPayment();

        Decide(PaymentId, authorized: true);

        await EndAsync(new BookingSagaResult(OrderStatus.Cancelled, CancellationReasons.BookingFailed));
        AssertCalls(Compensation(CancellationReasons.BookingFailed, paid: true), _calls.Skip(6));
    }

    [Fact]
    public async Task A_hold_that_lapsed_before_confirmation_is_compensated()
    {
        Stub<Guid, bool>(nameof(ConfirmReservationActivity), _ => false);
        StartAndWaitForPayment();

        Decide(PaymentId, authorized: true);

        await EndAsync(new BookingSagaResult(OrderStatus.Cancelled, CancellationReasons.HoldExpired));
        AssertCalls(Compensation(CancellationReasons.HoldExpired, paid: true), _calls.Skip(3));
    }

    [Fact]
    public async Task A_customer_cancel_that_reached_the_order_first_wins_over_an_authorized_payment()
    {
        Stub<Guid, bool>(nameof(ConfirmOrderActivity), _ => false);
        StartAndWaitForPayment();

        Decide(PaymentId, authorized: true);

        await EndAsync(new BookingSagaResult(OrderStatus.Cancelled, CancellationReasons.CustomerCancelled));
        AssertCalls(Compensation(CancellationReasons.CustomerCancelled, paid: true), _calls.Skip(4));
    }

    /// <summary>Compares activity calls as one line each, so that a failure shows both sequences.</summary>
    private static void AssertCalls(IEnumerable<string> expected, IEnumerable<string> actual) =>
        Assert.Equal(string.Join(" → ", expected), string.Join(" → ", actual));

    private static IEnumerable<string> Compensation(string reason, bool paid) =>
        (paid ? [nameof(VoidPaymentActivity)] : Array.Empty<string>())
            .Concat([nameof(ReleaseReservationActivity), $"{nameof(CancelOrderActivity)}:{reason}"]);

    private void Stub<TInput, TOutput>(string name, Func<TInput, TOutput> implementation) =>
        _context.SetActivity<TInput, TOutput>(name, input =>
        {
            _calls.Add(input is OrderCancellation cancellation ? $"{name}:{cancellation.Reason}" : name);
            return implementation(input);
        });

    private void Start() => _run = new BookingSagaWorkflow().RunAsync(_context, _order);

    private void StartAndWaitForPayment()
    {
        Start();
        Assert.Equal(BookingSagaSteps.AwaitingPaymentConfirmation, Step);
    }

    private void Decide(Guid paymentId, bool authorized) =>
        _context.RaiseEvent(BookingSagaEvents.PaymentDecided, new PaymentDecision(paymentId, authorized));

    private string? Step => ((BookingSagaProgress?)_context.CustomStatus)?.Step;

    /// <summary>The saga ended with <paramref name="expected"/>; its last custom status.</summary>
    private async Task<BookingSagaProgress?> EndAsync(BookingSagaResult expected)
    {
        var run = _run ?? throw new InvalidOperationException("The saga was not started.");
        Assert.True(run.IsCompleted, $"The saga is still waiting at {Step}.");
        Assert.Equal(expected, await run);
        return (BookingSagaProgress?)_context.CustomStatus;
    }
}
