using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace CloudScale.ServiceDefaults.Errors;

/// <summary>What is wrong with a request, field by field (JSON names), answered as a 400 validation problem.</summary>
public sealed class FieldErrors
{
    private readonly Dictionary<string, string[]> _errors = new(StringComparer.Ordinal);

    public bool IsEmpty => _errors.Count == 0;

    /// <summary>
    /// Records <paramref name="message"/> for <paramref name="field"/> when <paramref name="invalid"/>. A field keeps its
    /// first error, so checks can be chained from "missing" to "out of range" and the client sees the most basic one.
    /// </summary>
    public FieldErrors When(bool invalid, string field, string message)
    {
        if (invalid)
        {
            _errors.TryAdd(field, [message]);
        }

        return this;
    }

    /// <summary>Checks a <c>from</c>/<c>to</c> pair of dates: both present, <c>from</c> before <c>to</c>, at most <paramref name="maxDays"/> apart.</summary>
    public FieldErrors WhenNotADateRange(DateOnly? from, DateOnly? to, int maxDays) =>
        When(from is null, "from", "A start date (yyyy-MM-dd) is required.")
            .When(to is null, "to", "An end date (yyyy-MM-dd) is required.")
            .When(from >= to, "to", "The end date must be after the start date.")
            .When(to?.DayNumber - from?.DayNumber > maxDays, "to", $"The range may span at most {maxDays} days.");

    public ValidationProblem ToProblem() => TypedResults.ValidationProblem(_errors, title: "The request is invalid.");
}
