using CloudScale.ServiceDefaults.Errors;
using Microsoft.AspNetCore.Http.HttpResults;

namespace CloudScale.Notification.Api;

/// <summary>Notification's problem details (RFC 9457), each with a stable <c>type</c> a client can branch on.</summary>
internal static class Problems
{
    public static ProblemHttpResult NotificationNotFound(string userId, Guid id) =>
        DomainProblem.Create(StatusCodes.Status404NotFound, "notification-not-found", "Notification not found", $"User {userId} has no notification {id}.");
}
