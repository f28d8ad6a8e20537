using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace CloudScale.ServiceDefaults.Health;

/// <summary>
/// Writes a health report as JSON: each check's name, status, duration and description. A failed check's exception is
/// left out, and so is its description when it has one: health-check packages put the exception's message there, and a
/// driver's message can name hosts, users or file paths.
/// </summary>
internal static class HealthReportWriter
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter() },
    };

    public static Task WriteAsync(HttpContext context, HealthReport report)
    {
        var body = new HealthReportBody(
            report.Status,
            Math.Round(report.TotalDuration.TotalMilliseconds, 2),
            [.. report.Entries.Select(entry => new HealthCheckBody(
                entry.Key,
                entry.Value.Status,
                Math.Round(entry.Value.Duration.TotalMilliseconds, 2),
                entry.Value.Exception is null ? entry.Value.Description : null,
                !entry.Value.Tags.Any() ? null : [.. entry.Value.Tags]))]);

        context.Response.ContentType = "application/json; charset=utf-8";
        return JsonSerializer.SerializeAsync(context.Response.Body, body, Json, context.RequestAborted);
    }

    private sealed record HealthReportBody(HealthStatus Status, double TotalDurationMs, IReadOnlyList<HealthCheckBody> Checks);

    private sealed record HealthCheckBody(
        string Name, HealthStatus Status, double DurationMs, string? Description, IReadOnlyList<string>? Tags);
}
