using Microsoft.AspNetCore.Http.HttpResults;

namespace CloudScale.Notification.Api;

/// <summary>Notification's problem details (RFC 9457), each with a stable <c>type</c> a client can branch on.</summary>
internal static class Problems
{
    private const string TypeBase = "https://cloudscale.dev/problems/";

    public static ProblemHttpResult NotificationNotFound(string userId, Guid id) =>
        TypedResults.Problem(
            $"User {userId} has no notification {id}.",
            statusCode: StatusCodes.Status404NotFound,
            title: "Notification not found",
            type: TypeBase + "notification-not-found");
}
