namespace CloudScale.PaymentSimulator.Payments;

/// <summary>
/// Every payment the simulator knows, in memory: a restart forgets them all, which a simulator may (its callers then
/// see 404s for old payments, as from a provider that lost them). One lock keeps each check-and-change atomic.
/// </summary>
internal sealed class PaymentLedger
{
    private readonly Lock _gate = new();
    private readonly Dictionary<Guid, Payment> _byId = [];
    private readonly Dictionary<Guid, Guid> _idByOrder = [];

    /// <summary>
    /// The payment of <paramref name="orderId"/>: a new pending one, or the existing one when the order was authorized
    /// before (authorization is idempotent per order). Null when the order's payment was for another amount.
    /// </summary>
    public Payment? Authorize(Guid orderId, decimal amount, Uri callbackUrl, bool decline)
    {
        lock (_gate)
        {
            if (_idByOrder.TryGetValue(orderId, out var existingId))
            {
                var existing = _byId[existingId];
                return existing.Amount == amount ? existing : null;
            }

            var payment = new Payment(Guid.NewGuid(), orderId, amount, PaymentStatus.Pending,
                decline ? PaymentStatus.Declined : PaymentStatus.Authorized, callbackUrl);
            _byId[payment.Id] = payment;
            _idByOrder[orderId] = payment.Id;
            return payment;
        }
    }

    public Payment? Find(Guid paymentId)
    {
        lock (_gate)
        {
            return _byId.GetValueOrDefault(paymentId);
        }
    }

    /// <summary>The provider decides: a pending payment takes its drawn decision. Returns the payment as it then is.</summary>
    public Payment? Decide(Guid paymentId) =>
        Transition(paymentId, payment => payment.Status == PaymentStatus.Pending ? payment with { Status = payment.Decision } : payment).Payment;

    /// <summary>Voids a pending or authorized payment; voiding a voided one is a no-op. Declined and captured ones cannot be voided.</summary>
    public PaymentTransition Void(Guid paymentId) => Transition(paymentId, payment => payment.Status switch
    {
        PaymentStatus.Pending or PaymentStatus.Authorized => payment with { Status = PaymentStatus.Voided },
        PaymentStatus.Voided => payment,
        _ => null,
    });

    /// <summary>Captures an authorized payment; capturing a captured one is a no-op. Nothing else can be captured.</summary>
    public PaymentTransition Capture(Guid paymentId) => Transition(paymentId, payment => payment.Status switch
    {
        PaymentStatus.Authorized => payment with { Status = PaymentStatus.Captured },
        PaymentStatus.Captured => payment,
        _ => null,
    });

    /// <summary>Applies <paramref name="change"/>, which answers null for a change the payment's status does not allow.</summary>
    private PaymentTransition Transition(Guid paymentId, Func<Payment, Payment?> change)
    {
        lock (_gate)
        {
            if (!_byId.TryGetValue(paymentId, out var payment))
            {
                return new PaymentTransition(null, Allowed: false);
            }

            if (change(payment) is not { } changed)
            {
                return new PaymentTransition(payment, Allowed: false);
            }

            _byId[paymentId] = changed;
            return new PaymentTransition(changed, Allowed: true);
        }
    }
}

/// <summary>The payment after a change (null when there is no such payment), and whether its status allowed the change.</summary>
internal readonly record struct PaymentTransition(Payment? Payment, bool Allowed);
