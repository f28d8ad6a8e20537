using Microsoft.AspNetCore.Http.HttpResults;

namespace CloudScale.PaymentSimulator.Behaviour;

/// <summary>Reading and changing the simulator's behaviour at run time, so tests and demos can make the provider slow or failing.</summary>
internal static class BehaviourApi
{
    public static RouteGroupBuilder MapBehaviourApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/admin/behaviour").WithTags("Admin");
        api.MapGet("/", (BehaviourSettings settings) => TypedResults.Ok(settings.Current));
        api.MapPut("/", ChangeBehaviour);
        return api;
    }

    public static Results<Ok<SimulatorBehaviour>, ValidationProblem> ChangeBehaviour(SimulatorBehaviour behaviour, BehaviourSettings settings)
    {
        var errors = behaviour.Validate();
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, title: "The behaviour is invalid.");
        }

        settings.Current = behaviour;
        return TypedResults.Ok(behaviour);
    }

    /// <summary>
    /// Fails the request with a 500 or a 503 at the configured error rate, before it does anything: what a provider
    /// that is down or overloaded looks like to its clients.
    /// </summary>
    public static TBuilder FailAtErrorRate<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(async (context, next) =>
        {
            var settings = context.HttpContext.RequestServices.GetRequiredService<BehaviourSettings>();
            if (Random.Shared.NextDouble() >= settings.Current.ErrorRate)
            {
                return await next(context);
            }

            var status = Random.Shared.Next(2) == 0 ? StatusCodes.Status500InternalServerError : StatusCodes.Status503ServiceUnavailable;
            return TypedResults.Problem("The simulator failed this request on purpose (errorRate).", statusCode: status, title: "Simulated failure");
        });
}
