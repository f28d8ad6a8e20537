using CloudScale.Booking.Api;
using CloudScale.Booking.Reservations;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Net.Http.Headers;

namespace CloudScale.Booking.Rooms;

/// <summary>The room catalogue: browsing and availability for customers, create and update for administrators.</summary>
internal static class RoomsApi
{
    public static RouteGroupBuilder MapRoomsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/rooms").WithTags("Rooms");
        api.MapGet("/", ListRoomsAsync);
        api.MapGet("/{id:guid}", GetRoomAsync);
        api.MapGet("/{id:guid}/availability", GetAvailabilityAsync);
        api.MapPost("/", CreateRoomAsync);
        api.MapPut("/{id:guid}", UpdateRoomAsync);
        return api;
    }

    public static async Task<Results<Ok<RoomPage>, ValidationProblem>> ListRoomsAsync(
        [AsParameters] ListRoomsRequest request, RoomStore rooms, CancellationToken cancellationToken)
    {
        var errors = request.Validate();
        return errors.IsEmpty ? TypedResults.Ok(await rooms.ListAsync(request, cancellationToken)) : errors.ToProblem();
    }

    /// <summary>A room, from Redis when cached; its ETag is what PUT expects in If-Match.</summary>
    public static async Task<Results<Ok<Room>, ProblemHttpResult>> GetRoomAsync(
        Guid id, RoomCache cache, HttpResponse response, CancellationToken cancellationToken)
    {
        if (await cache.GetAsync(id, cancellationToken) is not { } room)
        {
            return Problems.RoomNotFound(id);
        }

        response.Headers.ETag = room.ETag();
        return TypedResults.Ok(room);
    }

    public static async Task<Results<Ok<RoomAvailability>, ValidationProblem, ProblemHttpResult>> GetAvailabilityAsync(
        Guid id, [AsParameters] AvailabilityRequest request, RoomCache cache, ReservationStore reservations, CancellationToken cancellationToken)
    {
        var (nights, errors) = request.Validate();
        if (nights is null)
        {
            return errors.ToProblem();
        }

        if (await cache.GetAsync(id, cancellationToken) is null)
        {
            return Problems.RoomNotFound(id);
        }

        var stays = await reservations.FindActiveStaysAsync(id, nights, cancellationToken);
        var days = nights.Nights()
            .Select(night => new DayAvailability(night, stays.Any(stay => stay.Includes(night)) ? DayStatus.Booked : DayStatus.Free))
            .ToList();
        return TypedResults.Ok(new RoomAvailability(id, nights.From, nights.To, days));
    }

    public static async Task<Results<Created<Room>, ValidationProblem>> CreateRoomAsync(
        RoomRequest request, RoomStore rooms, HttpResponse response, CancellationToken cancellationToken)
    {
        var (details, errors) = request.Validate();
        if (details is null)
        {
            return errors.ToProblem();
        }

        var room = await rooms.CreateAsync(details, cancellationToken);
        response.Headers.ETag = room.ETag();
        return TypedResults.Created($"/rooms/{room.Id}", room);
    }

    /// <summary>
    /// Replaces a room's details if it is still at the version the caller read (If-Match, required so that concurrent
    /// administrators cannot silently overwrite each other), then drops the cached copy.
    /// </summary>
    public static async Task<Results<Ok<Room>, ValidationProblem, ProblemHttpResult>> UpdateRoomAsync(
        Guid id, RoomRequest request, RoomStore rooms, RoomCache cache, HttpContext context, CancellationToken cancellationToken)
    {
        var ifMatch = context.Request.GetTypedHeaders().IfMatch;
        if (ifMatch.Count == 0)
        {
            return Problems.IfMatchRequired();
        }

        var (details, errors) = request.Validate();
        if (details is null)
        {
            return errors.ToProblem();
        }

        // "*" matches any version; a tag that is not a version this service issued matches none.
        int[]? expectedVersions = ifMatch.Any(tag => tag.Equals(EntityTagHeaderValue.Any))
            ? null
            : [.. ifMatch.Where(tag => !tag.IsWeak).Select(tag => int.TryParse(tag.Tag.AsSpan().Trim('"'), out var version) ? version : 0)];
        if (await rooms.UpdateAsync(id, details, expectedVersions, cancellationToken) is not { } updated)
        {
            return await rooms.FindAsync(id, cancellationToken) is { } current
                ? Problems.VersionMismatch(id, current.ETag())
                : Problems.RoomNotFound(id);
        }

        await cache.InvalidateAsync(id);
        context.Response.Headers.ETag = updated.ETag();
        return TypedResults.Ok(updated);
    }
}
