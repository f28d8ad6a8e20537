using CloudScale.Testing;

namespace CloudScale.Redis.Tests;

public sealed class HashAndSortedSetTests(TestServers servers) : RedisTestBase(servers)
{
    [Fact]
    public async Task Hash_commands_read_and_write_fields()
    {
        var key = Key("hash");

        Assert.True(await Db.HashSetAsync(key, "name", "Ada", Cancellation));
        Assert.False(await Db.HashSetAsync(key, "name", "Ada L.", Cancellation));
        Assert.Equal(2, await Db.HashSetAsync(key, [new HashEntry("city", "London"), new HashEntry("visits", 1)], Cancellation));
        Assert.Equal(4, await Db.HashIncrementAsync(key, "visits", 3, Cancellation));

        Assert.Equal("Ada L.", (string?)await Db.HashGetAsync(key, "name", Cancellation));
        Assert.Equal("London,(nil),4", Show.Values(await Db.HashGetAsync(key, ["city", "missing", "visits"], Cancellation)));
        var all = await Db.HashGetAllAsync(key, Cancellation);
        Assert.Equal("name=Ada L.,city=London,visits=4", Show.Texts(all.Select(entry => $"{entry.Name}={entry.Value}")));

        Assert.True(await Db.HashDeleteAsync(key, "name", Cancellation));
        Assert.Equal(1, await Db.HashDeleteAsync(key, ["city", "missing"], Cancellation));
        Assert.Single(await Db.HashGetAllAsync(key, Cancellation));
    }

    [Fact]
    public async Task Zadd_honours_NX_and_XX_and_zcard_counts()
    {
        var key = Key("zset");

        Assert.True(await Db.SortedSetAddAsync(key, "a", 1, cancellationToken: Cancellation));
        Assert.False(await Db.SortedSetAddAsync(key, "b", 2, When.Exists, Cancellation));
        Assert.False(await Db.SortedSetAddAsync(key, "a", 5, When.NotExists, Cancellation));
        Assert.Equal(2, await Db.SortedSetAddAsync(key, [new SortedSetEntry("b", 2), new SortedSetEntry("c", 3)], cancellationToken: Cancellation));

        Assert.Equal(3, await Db.SortedSetLengthAsync(key, Cancellation));
        Assert.Equal(1, (await Db.SortedSetRangeByRankWithScoresAsync(key, 0, 0, cancellationToken: Cancellation))[0].Score);
    }

    [Fact]
    public async Task Zrange_by_rank_and_by_score_with_rev_limit_and_exclusive_bounds()
    {
        var key = Key("zrange");
        await Db.SortedSetAddAsync(key, [.. Enumerable.Range(1, 10).Select(score => new SortedSetEntry($"m{score}", score))], cancellationToken: Cancellation);

        Assert.Equal("m1,m2,m3", Show.Values(await Db.SortedSetRangeByRankAsync(key, 0, 2, cancellationToken: Cancellation)));
        Assert.Equal("m10,m9", Show.Values(await Db.SortedSetRangeByRankAsync(key, 0, 1, Order.Descending, Cancellation)));
        Assert.Equal("m3,m4,m5", Show.Values(await Db.SortedSetRangeByScoreAsync(key, 3, 5, cancellationToken: Cancellation)));
        Assert.Equal("m4", Show.Values(await Db.SortedSetRangeByScoreAsync(key, 3, 5, Exclude.Both, cancellationToken: Cancellation)));
        Assert.Equal("m7,m6", Show.Values(await Db.SortedSetRangeByScoreAsync(key, 2, 8, order: Order.Descending, skip: 1, take: 2, cancellationToken: Cancellation)));
        Assert.Equal(
            [new SortedSetEntry("m9", 9), new SortedSetEntry("m10", 10)],
            await Db.SortedSetRangeByScoreWithScoresAsync(key, 9, double.PositiveInfinity, cancellationToken: Cancellation));
    }

    [Fact]
    public async Task Zremrangebyscore_removes_the_range()
    {
        var key = Key("zrem");
        await Db.SortedSetAddAsync(key, [.. Enumerable.Range(1, 10).Select(score => new SortedSetEntry($"m{score}", score))], cancellationToken: Cancellation);

        Assert.Equal(4, await Db.SortedSetRemoveRangeByScoreAsync(key, double.NegativeInfinity, 5, Exclude.Stop, Cancellation));

        Assert.Equal(6, await Db.SortedSetLengthAsync(key, Cancellation));
        Assert.Equal("m5", Show.Values(await Db.SortedSetRangeByRankAsync(key, 0, 0, cancellationToken: Cancellation)));
    }
}
