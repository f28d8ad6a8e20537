using System.Globalization;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;

namespace CloudScale.ServiceDefaults.Data;

/// <summary>
/// One <c>Migrations/NNNN_name.sql</c> file embedded in a service's assembly. Its checksum is recorded when it is applied, so that editing an
/// applied migration (instead of adding a new one) stops start-up instead of leaving databases that differ.
/// </summary>
internal sealed record Migration(int Version, string Name, string Sql, string Checksum)
{
    private const string ResourcePrefix = "Migrations/";

    /// <summary>Every migration embedded in <paramref name="assembly"/>, in version order.</summary>
    public static IReadOnlyList<Migration> LoadEmbedded(Assembly assembly)
    {
        return [.. assembly.GetManifestResourceNames()
            .Where(resource => resource.StartsWith(ResourcePrefix, StringComparison.Ordinal) && resource.EndsWith(".sql", StringComparison.Ordinal))
            .Select(resource => Load(assembly, resource))
            .OrderBy(migration => migration.Version)];
    }

    private static Migration Load(Assembly assembly, string resource)
    {
        var name = Path.GetFileNameWithoutExtension(resource[ResourcePrefix.Length..]);
        var underscore = name.IndexOf('_', StringComparison.Ordinal);
        if (underscore <= 0 || !int.TryParse(name.AsSpan(0, underscore), NumberStyles.None, CultureInfo.InvariantCulture, out var version))
        {
            throw new InvalidOperationException($"Migration '{resource}' is not named NNNN_description.sql.");
        }

        using var stream = assembly.GetManifestResourceStream(resource)!;
        using var reader = new StreamReader(stream, Encoding.UTF8);
        // Line endings depend on how the file was checked out; the checksum must not.
        var sql = reader.ReadToEnd().ReplaceLineEndings("\n");
        var checksum = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(sql)));
        return new Migration(version, name, sql, checksum);
    }
}
