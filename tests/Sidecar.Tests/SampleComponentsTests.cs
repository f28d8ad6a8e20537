using System.Net;
using System.Text.Json;
using StackExchange.Redis;
using CloudScale.Testing;

namespace CloudScale.Sidecar.Tests;

/// <summary>The repository's <c>components/</c> folder, as an app's sidecar loads it: secrets from the environment, state and pub/sub on a Redis with a password.</summary>
public sealed class SampleComponentsTests
{
    [Fact]
    public async Task The_sample_components_load_with_secrets_from_the_environment_and_work()
    {
        await using var redis = await RedisServer.StartNewAsync(new RedisServerOptions { Password = "s3cret-" + Guid.NewGuid().ToString("N")[..8] });
        var environment = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["REDIS_HOST"] = $"{redis.Host}:{redis.Port}",
            ["REDIS_PASSWORD"] = redis.Password!,
        };
        await using var sidecar = await Sidecars.StartAsync("sample", Path.Combine(Sidecars.RepositoryRoot, "components"), environment: environment);

        using (var metadata = JsonDocument.Parse(await sidecar.Http.GetStringAsync("/v1.0/metadata", TestContext.Current.CancellationToken)))
        {
            var components = metadata.RootElement.GetProperty("components").EnumerateArray()
                .ToDictionary(component => component.GetProperty("name").GetString()!, component => component.GetProperty("type").GetString(), StringComparer.Ordinal);
            Assert.Equal("state.redis", components["statestore"]);
            Assert.Equal("pubsub.redis", components["pubsub"]);
        }

        var state = new StateStoreClient(sidecar.Http, "statestore");
        await state.SaveAsync("""[{"key":"k","value":"v"}]""", HttpStatusCode.NoContent);
        Assert.Equal("\"v\"", await state.GetStringAsync("k"));
        using (var published = await sidecar.Http.PostAsync("/v1.0/publish/pubsub/sample", StateStoreClient.Json("{}"), TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.NoContent, published.StatusCode);
        }

        var options = ConfigurationOptions.Parse(redis.ConnectionString);
        await using var direct = await ConnectionMultiplexer.ConnectAsync(options);
        Assert.Single(await RedisStreams.EntriesAsync(direct.GetDatabase(), "sample"));
    }
}
