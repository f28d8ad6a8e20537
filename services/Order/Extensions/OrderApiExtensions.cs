using CloudScale.Order.Orders;
using CloudScale.Order.Saga;

namespace CloudScale.Order.Extensions;

internal static class OrderApiExtensions
{
    /// <summary>Order's HTTP API (see README.md) and its OpenAPI document at /openapi/v1.json.</summary>
    public static WebApplication MapOrderApi(this WebApplication app)
    {
        app.MapOpenApi();
        app.MapOrdersApi();
        app.MapPaymentConfirmations();
        return app;
    }
}
