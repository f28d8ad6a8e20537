using System.Collections;
using Npgsql;

// A tiny service for orchestrator tests: it reports what the AppHost gave it (environment, pid) and
// whether its database answered when it started, which is what WaitFor promises.
var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
var app = builder.Build();
app.MapDefaultEndpoints();

var databaseAtStartup = await CanReachDatabaseAsync(builder.Configuration.GetConnectionString("db"));

app.MapGet("/pid", () => Environment.ProcessId);
app.MapGet("/env", () => Environment.GetEnvironmentVariables().Cast<DictionaryEntry>()
    .ToDictionary(entry => (string)entry.Key, entry => (string?)entry.Value, StringComparer.Ordinal));
app.MapGet("/startup", () => new { databaseAtStartup });
app.Run();

static async Task<bool?> CanReachDatabaseAsync(string? connectionString)
{
    if (connectionString is null)
    {
        return null;
    }

    try
    {
        await using var connection = new NpgsqlConnection(connectionString + ";Timeout=2;Pooling=false");
        await connection.OpenAsync();
        return true;
    }
    catch (Exception exception) when (exception is NpgsqlException or TimeoutException)
    {
        return false;
    }
}
