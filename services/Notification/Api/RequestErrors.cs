using CloudScale.Notification.Notifications;
using Microsoft.AspNetCore.Http.HttpResults;

namespace CloudScale.Notification.Api;

/// <summary>What is wrong with a request, by parameter name, answered as a 400 validation problem.</summary>
internal sealed class RequestErrors
{
    private readonly Dictionary<string, string[]> _errors = new(StringComparer.Ordinal);

    public bool IsEmpty => _errors.Count == 0;

    public RequestErrors When(bool invalid, string parameter, string message)
    {
        if (invalid)
        {
            _errors[parameter] = [message];
        }

        return this;
    }

    public RequestErrors WhenNotAUserId(string userId) =>
        When(!UserIds.IsValid(userId), "userId", $"The user id must have 1 to {UserIds.MaxLength} characters and not be blank.");

    public ValidationProblem ToProblem() => TypedResults.ValidationProblem(_errors, title: "The request is invalid.");
}
