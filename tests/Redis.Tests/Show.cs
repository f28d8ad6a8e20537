namespace CloudScale.Redis.Tests;

/// <summary>Values as one comparable line, "(nil)" for null, so that assertions read as the expected reply.</summary>
internal static class Show
{
    public static string Values(IEnumerable<RedisValue> values) => string.Join(",", values.Select(value => value.IsNull ? "(nil)" : value.ToString()));

    public static string Texts(IEnumerable<string> texts) => string.Join(",", texts);
}
