using StackExchange.Redis;

namespace CloudScale.Redis.Benchmarks;

/// <summary>
/// What redis-benchmark reads and writes without <c>-r</c>: one fixed key and, with <c>-d 3</c>, a 3-byte value (it
/// fills it with random letters; ours is <c>xxx</c>).
/// </summary>
internal static class BenchmarkData
{
    public const int ValueSize = 3;

    public static readonly RedisKey Key = "key:__rand_int__";

    public static readonly RedisValue Value = Enumerable.Repeat((byte)'x', ValueSize).ToArray();
}
