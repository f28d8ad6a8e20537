using CloudScale.Order.Orders;
using CloudScale.Order.Payments;
using CloudScale.Order.Saga;
using CloudScale.Workflow.Testing;
using Dapr.Workflow;

namespace CloudScale.Order.Tests;

/// <summary>
/// The booking saga's decisions alone, without infrastructure: every activity is a stub that records its call, time is
/// a test clock, and the test raises the provider's and the customer's events. The saga against the real services is
/// in the end-to-end tests.
/// </summary>
public sealed class BookingSagaWorkflowTests : IAsyncDisposable
{
    private static readonly Guid ReservationId = Guid.NewGuid();
    private static readonly Guid PaymentId = Guid.NewGuid();
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    private readonly WorkflowTestHost _host;
    private readonly List<string> _calls = [];
    private readonly BookingSagaInput _order = new(Guid.NewGuid(), "ada", Guid.NewGuid(), new DateOnly(2030, 5, 3), new DateOnly(2030, 5, 5), 240m, Timeout);

    public BookingSagaWorkflowTests()
    {
        _host = new WorkflowTestHost(options => options.RegisterWorkflow<BookingSagaWorkflow>());
        Stub<BookingSagaInput, HoldResult>(nameof(HoldRoomActivity), _ => new HoldResult(ReservationId, null));
        Stub<BookingSagaInput, Guid>(nameof(AuthorizePaymentActivity), _ => PaymentId);
        Stub<Guid, bool>(nameof(ConfirmReservationActivity), _ => true);
        Stub<Guid, bool>(nameof(ConfirmOrderActivity), _ => true);
        Stub<Guid, PaymentStatus>(nameof(CapturePaymentActivity), _ => PaymentStatus.Captured);
        Stub<Guid, PaymentStatus>(nameof(VoidPaymentActivity), _ => PaymentStatus.Voided);
        Stub<Guid, bool>(nameof(ReleaseReservationActivity), _ => true);
        Stub<OrderCancellation, OrderStatus>(nameof(CancelOrderActivity), cancellation => OrderStatus.Cancelled);
    }

    private string InstanceId => BookingSagaInput.InstanceIdOf(_order.OrderId);

    [Fact]
    public async Task An_authorized_payment_books_the_room_confirms_the_order_and_captures()
    {
        await StartAndWaitForPaymentAsync();

        await DecideAsync(PaymentId, authorized: true);

        var state = await EndAsync(new BookingSagaResult(OrderStatus.Confirmed, null));
        AssertCalls(
            [nameof(HoldRoomActivity), nameof(AuthorizePaymentActivity), nameof(ConfirmReservationActivity), nameof(ConfirmOrderActivity), nameof(CapturePaymentActivity)],
            _calls);
        Assert.Equal(new BookingSagaProgress(BookingSagaSteps.Confirmed, ReservationId, PaymentId), state.ReadCustomStatusAs<BookingSagaProgress>());
    }

    [Fact]
    public async Task A_room_taken_by_another_order_cancels_without_touching_the_payment()
    {
        Stub<BookingSagaInput, HoldResult>(nameof(HoldRoomActivity), _ => new HoldResult(null, CancellationReasons.RoomUnavailable));

        await StartAsync();

        await EndAsync(new BookingSagaResult(OrderStatus.Cancelled, CancellationReasons.RoomUnavailable));
        AssertCalls([nameof(HoldRoomActivity), $"{nameof(CancelOrderActivity)}:{CancellationReasons.RoomUnavailable}"], _calls);
    }

    [Fact]
    public async Task A_declined_payment_is_voided_and_the_hold_released_before_the_order_is_cancelled()
    {
        await StartAndWaitForPaymentAsync();

        await DecideAsync(PaymentId, authorized: false);

        await EndAsync(new BookingSagaResult(OrderStatus.Cancelled, CancellationReasons.PaymentDeclined));
        AssertCalls(Compensation(CancellationReasons.PaymentDeclined, paid: true), _calls.Skip(2));
    }

    [Fact]
    public async Task No_decision_within_the_timeout_compensates_as_a_timeout()
    {
        await StartAndWaitForPaymentAsync();

        await _host.AdvanceTimeAsync(Timeout - TimeSpan.FromSeconds(1), TestContext.Current.CancellationToken);
        Assert.Equal(WorkflowRuntimeStatus.Running, (await _host.Client.GetWorkflowStateAsync(InstanceId, cancellation: TestContext.Current.CancellationToken)).RuntimeStatus);
        await _host.AdvanceTimeAsync(TimeSpan.FromSeconds(1), TestContext.Current.CancellationToken);

        await EndAsync(new BookingSagaResult(OrderStatus.Cancelled, CancellationReasons.PaymentTimeout));
        AssertCalls(Compensation(CancellationReasons.PaymentTimeout, paid: true), _calls.Skip(2));
    }

    [Fact]
    public async Task A_customer_cancel_while_waiting_gives_everything_back()
    {
        await StartAndWaitForPaymentAsync();

        await _host.Client.RaiseEventAsync(InstanceId, BookingSagaEvents.CancelRequested, cancellation: TestContext.Current.CancellationToken);
        await _host.RunUntilIdleAsync(TestContext.Current.CancellationToken);

        await EndAsync(new BookingSagaResult(OrderStatus.Cancelled, CancellationReasons.CustomerCancelled));
        AssertCalls(Compensation(CancellationReasons.CustomerCancelled, paid: true), _calls.Skip(2));
    }

    [Fact]
    public async Task A_decision_about_another_payment_is_ignored()
    {
        await StartAndWaitForPaymentAsync();

        await DecideAsync(Guid.NewGuid(), authorized: false);
        Assert.Equal(BookingSagaSteps.AwaitingPaymentConfirmation, await StepAsync());
        await DecideAsync(PaymentId, authorized: true);

        await EndAsync(new BookingSagaResult(OrderStatus.Confirmed, null));
    }

    [Fact]
    public async Task A_provider_that_keeps_failing_is_retried_with_backoff_then_the_hold_is_released()
    {
        var attempts = 0;
        Stub<BookingSagaInput, Guid>(nameof(AuthorizePaymentActivity), _ =>
        {
            attempts++;
            throw new PaymentProviderException(HttpMethod.Post, "/payments/authorize", 503, "unavailable");
        });

        await StartAsync();
        await AdvanceThroughForwardRetriesAsync();

        await EndAsync(new BookingSagaResult(OrderStatus.Cancelled, CancellationReasons.PaymentFailed));
        Assert.Equal(4, attempts);
        AssertCalls(Compensation(CancellationReasons.PaymentFailed, paid: false), _calls.Skip(1).Where(call => call != nameof(AuthorizePaymentActivity)));
    }

    [Fact]
    public async Task A_booking_that_keeps_failing_to_confirm_the_hold_is_compensated()
    {
        Stub<Guid, bool>(nameof(ConfirmReservationActivity), _ => throw new InvalidOperationException("Booking answered 500."));
        await StartAndWaitForPaymentAsync();

        await DecideAsync(PaymentId, authorized: true);
        await AdvanceThroughForwardRetriesAsync();

        await EndAsync(new BookingSagaResult(OrderStatus.Cancelled, CancellationReasons.BookingFailed));
        AssertCalls(Compensation(CancellationReasons.BookingFailed, paid: true), _calls.Skip(6));
    }

    [Fact]
    public async Task A_hold_that_lapsed_before_confirmation_is_compensated()
    {
        Stub<Guid, bool>(nameof(ConfirmReservationActivity), _ => false);
        await StartAndWaitForPaymentAsync();

        await DecideAsync(PaymentId, authorized: true);

        await EndAsync(new BookingSagaResult(OrderStatus.Cancelled, CancellationReasons.HoldExpired));
        AssertCalls(Compensation(CancellationReasons.HoldExpired, paid: true), _calls.Skip(3));
    }

    [Fact]
    public async Task A_customer_cancel_that_reached_the_order_first_wins_over_an_authorized_payment()
    {
        Stub<Guid, bool>(nameof(ConfirmOrderActivity), _ => false);
        await StartAndWaitForPaymentAsync();

        await DecideAsync(PaymentId, authorized: true);

        await EndAsync(new BookingSagaResult(OrderStatus.Cancelled, CancellationReasons.CustomerCancelled));
        AssertCalls(Compensation(CancellationReasons.CustomerCancelled, paid: true), _calls.Skip(4));
    }

    public ValueTask DisposeAsync() => _host.DisposeAsync();

    /// <summary>Compares activity calls as one line each, so that a failure shows both sequences.</summary>
    private static void AssertCalls(IEnumerable<string> expected, IEnumerable<string> actual) =>
        Assert.Equal(string.Join(" → ", expected), string.Join(" → ", actual));

    private static IEnumerable<string> Compensation(string reason, bool paid) =>
        (paid ? [nameof(VoidPaymentActivity)] : Array.Empty<string>())
            .Concat([nameof(ReleaseReservationActivity), $"{nameof(CancelOrderActivity)}:{reason}"]);

    private void Stub<TInput, TOutput>(string name, Func<TInput, TOutput> implementation) =>
        _host.StubActivity<TInput, TOutput>(name, input =>
        {
            _calls.Add(input is OrderCancellation cancellation ? $"{name}:{cancellation.Reason}" : name);
            return implementation(input);
        });

    /// <summary>Fires the three retry timers of a forward step's policy (1, 2 and 4 s), so all four attempts run.</summary>
    private async Task AdvanceThroughForwardRetriesAsync()
    {
        foreach (var backoff in new[] { 1, 2, 4 })
        {
            await _host.AdvanceTimeAsync(TimeSpan.FromSeconds(backoff), TestContext.Current.CancellationToken);
        }
    }

    private async Task StartAsync()
    {
        await _host.Client.ScheduleNewWorkflowAsync(nameof(BookingSagaWorkflow), InstanceId, _order, cancellation: TestContext.Current.CancellationToken);
        await _host.RunUntilIdleAsync(TestContext.Current.CancellationToken);
    }

    private async Task StartAndWaitForPaymentAsync()
    {
        await StartAsync();
        Assert.Equal(BookingSagaSteps.AwaitingPaymentConfirmation, await StepAsync());
    }

    private async Task DecideAsync(Guid paymentId, bool authorized)
    {
        await _host.Client.RaiseEventAsync(InstanceId, BookingSagaEvents.PaymentDecided, new PaymentDecision(paymentId, authorized), TestContext.Current.CancellationToken);
        await _host.RunUntilIdleAsync(TestContext.Current.CancellationToken);
    }

    private async Task<string?> StepAsync() =>
        (await _host.Client.GetWorkflowStateAsync(InstanceId, cancellation: TestContext.Current.CancellationToken)).ReadCustomStatusAs<BookingSagaProgress>()?.Step;

    private async Task<WorkflowState> EndAsync(BookingSagaResult expected)
    {
        var state = await _host.Client.GetWorkflowStateAsync(InstanceId, cancellation: TestContext.Current.CancellationToken);
        Assert.Equal(WorkflowRuntimeStatus.Completed, state.RuntimeStatus);
        Assert.Equal(expected, state.ReadOutputAs<BookingSagaResult>());
        return state;
    }
}
