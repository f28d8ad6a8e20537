using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace CloudScale.ServiceDefaults.Errors;

/// <summary>
/// The domain errors every CloudScale service answers with: RFC 9457 problem details whose <c>type</c> is a stable URI
/// under <see cref="TypeBase"/> that clients (and other services) branch on.
/// </summary>
public static class DomainProblem
{
    public const string TypeBase = "https://cloudscale.dev/problems/";

    public static ProblemHttpResult Create(int status, string type, string title, string detail) =>
        TypedResults.Problem(detail, statusCode: status, title: title, type: TypeBase + type);

    /// <summary>The short type (<c>room-unavailable</c>) of a problem <c>type</c> URI; null when it is not one of these.</summary>
    public static string? ShortType(string? typeUri) =>
        typeUri is not null && typeUri.StartsWith(TypeBase, StringComparison.Ordinal) ? typeUri[TypeBase.Length..] : null;
}
