using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace CloudScale.ServiceDefaults.Errors;

/// <summary>
/// Describes a request that ASP.NET Core could not bind, in terms of the request alone. The framework's own messages name
/// CLR types and echo the offending value, which can be a header; these name only the field (JSON name or parameter).
/// </summary>
internal static partial class BadRequestProblems
{
    public static ProblemDetails Describe(BadHttpRequestException exception) => exception switch
    {
        { StatusCode: StatusCodes.Status413PayloadTooLarge } =>
            Problem(exception.StatusCode, "Request body too large", "The request body is larger than this service accepts."),
        { StatusCode: StatusCodes.Status415UnsupportedMediaType } =>
            Problem(exception.StatusCode, "Unsupported media type", "Send the body as application/json."),
        { InnerException: JsonException json } => DescribeJson(json),
        _ when ParameterFailure().Match(exception.Message) is { Success: true } failure => FieldError(
            failure.Groups["name"].Value,
            failure.Groups["kind"].Value == "Required" ? "A value is required." : "The value does not have the expected type or format."),
        _ => Problem(exception.StatusCode, "Invalid request", "The request could not be read."),
    };

    // A syntax error carries the reader's exception inside; a value of the wrong type or format points at its field.
    private static ProblemDetails DescribeJson(JsonException json) =>
        json.InnerException is JsonException || FieldOf(json.Path) is not { Length: > 0 } field
            ? Problem(StatusCodes.Status400BadRequest, "The request body is not valid JSON",
                $"The JSON could not be read at line {json.LineNumber + 1}, byte {json.BytePositionInLine + 1}.")
            : FieldError(field, "The value does not have the expected type or format.");

    private static string? FieldOf(string? path) => path is null ? null : path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path.TrimStart('$');

    private static ProblemDetails Problem(int status, string title, string detail) => new() { Status = status, Title = title, Detail = detail };

    // The same shape as FieldErrors.ToProblem, so a client reads binding and validation errors alike.
    private static ValidationProblemDetails FieldError(string field, string message) => new(new Dictionary<string, string[]>(StringComparer.Ordinal)
    {
        [field] = [message],
    })
    {
        Status = StatusCodes.Status400BadRequest,
        Title = "The request is invalid.",
    };

    // "Failed to bind parameter "Guid id" from "abc"." / "Required parameter "string name" was not provided from query string."
    [GeneratedRegex("^(?<kind>Failed|Required)[^\"]*\"(?:[^\"]*\\s)?(?<name>[^\"\\s]+)\"", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 100)]
    private static partial Regex ParameterFailure();
}
