using CloudScale.ServiceDefaults.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace CloudScale.Foundation.Tests;

public sealed class StartupResolutionTests
{
    [Fact]
    public async Task A_singleton_resolved_at_start_is_built_once_before_the_service_takes_requests()
    {
        var built = 0;
        await using var service = await SampleService.StartAsync(
            app => app.MapGet("/built", (SlowToBuild _) => Volatile.Read(ref built)),
            configure: builder =>
            {
                builder.Services.AddSingleton(_ =>
                {
                    Interlocked.Increment(ref built);
                    return new SlowToBuild();
                });
                builder.Services.ResolveAtStart<SlowToBuild>();
            });

        Assert.Equal(1, Volatile.Read(ref built));
        Assert.Equal("1", await service.Client.GetStringAsync("/built", TestContext.Current.CancellationToken));
    }

    private sealed class SlowToBuild;
}
