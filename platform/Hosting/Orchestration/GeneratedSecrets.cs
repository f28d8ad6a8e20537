using System.Security.Cryptography;
using System.Text.Json;

namespace Aspire.Hosting.Orchestration;

/// <summary>
/// Generated passwords, kept in <c>.cloudscale/parameters.json</c> so that persistent Redis and Postgres data
/// stay usable across runs (Aspire keeps them in the AppHost's user secrets). Ephemeral runs keep them in memory.
/// </summary>
internal sealed class GeneratedSecrets(DistributedApplicationBuilder builder)
{
    private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private bool _loaded;

    public string GetOrCreate(string name)
    {
        lock (_gate)
        {
            var file = Path.Combine(builder.DataDirectory, "parameters.json");
            if (!_loaded && !builder.EphemeralData && File.Exists(file))
            {
                foreach (var (key, value) in JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllText(file)) ?? [])
                {
                    _values[key] = value;
                }
            }

            _loaded = true;
            if (_values.TryGetValue(name, out var existing))
            {
                return existing;
            }

            // Letters and digits only: a comma would break the Redis connection-string format.
            var created = RandomNumberGenerator.GetString("abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789", 22);
            _values[name] = created;
            if (!builder.EphemeralData)
            {
                Directory.CreateDirectory(builder.DataDirectory);
                File.WriteAllText(file, JsonSerializer.Serialize(_values));
                File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }

            return created;
        }
    }
}
