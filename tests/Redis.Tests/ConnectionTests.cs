using System.Diagnostics;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using CloudScale.Testing;

namespace CloudScale.Redis.Tests;

public sealed class ConnectionTests(TestServers servers)
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public void The_connection_string_format_of_aspire_and_stackexchange_redis_parses()
    {
        var options = ConfigurationOptions.Parse(
            "cache.example.net:6380,password=p@ss=word,user=app,ssl=True,sslHost=redis.example.net,abortConnect=False," +
            "defaultDatabase=2,connectTimeout=1500,syncTimeout=3000,asyncTimeout=2500,name=booking,protocol=resp3");

        Assert.Equal(("cache.example.net", 6380), (options.Host, options.Port));
        Assert.Equal(("app", "p@ss=word"), (options.User, options.Password));
        Assert.True(options.Ssl);
        Assert.Equal("redis.example.net", options.SslHost);
        Assert.False(options.AbortOnConnectFail);
        Assert.Equal(2, options.DefaultDatabase);
        Assert.Equal(TimeSpan.FromMilliseconds(1500), options.ConnectTimeout);
        Assert.Equal(TimeSpan.FromMilliseconds(2500), options.CommandTimeout);
        Assert.Equal("booking", options.ClientName);
        Assert.Equal(RedisProtocol.Resp3, options.Protocol);
        Assert.Equal(6380, ConfigurationOptions.Parse("localhost,ssl=true").Port);
        Assert.Equal(TimeSpan.FromMilliseconds(700), ConfigurationOptions.Parse("localhost,syncTimeout=700").CommandTimeout);
    }

    [Theory]
    [InlineData("redis", "redis", 6379)]
    [InlineData("10.0.0.5:7000", "10.0.0.5", 7000)]
    [InlineData("[::1]:6380", "::1", 6380)]
    [InlineData("[::1]", "::1", 6379)]
    [InlineData("::1", "::1", 6379)]
    public void Endpoints_parse_with_or_without_a_port_and_with_ipv6_addresses(string configuration, string host, int port)
    {
        var options = ConfigurationOptions.Parse(configuration);

        Assert.Equal((host, port), (options.Host, options.Port));
    }

    [Theory]
    [InlineData("localhost:6379,retries=3", "retries")]
    [InlineData("localhost:6379,ssl=maybe", "ssl")]
    [InlineData("localhost:6379,defaultDatabase=-1", "defaultDatabase")]
    [InlineData("localhost:6379,connectTimeout=soon", "connectTimeout")]
    [InlineData("localhost:http", "localhost:http")]
    [InlineData("password=x", "endpoint")]
    [InlineData("[::1]:http", "[::1]:http")]
    [InlineData("localhost:6379,localhost:6380", "second")]
    [InlineData("  ", "configuration")]
    public void Unknown_or_malformed_options_are_an_argument_exception_naming_them(string configuration, string named)
    {
        var error = Assert.Throws<ArgumentException>(() => ConfigurationOptions.Parse(configuration));

        Assert.Contains(named, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Auth_with_a_password_and_with_an_acl_user()
    {
        await using var server = await RedisServer.StartNewAsync(new RedisServerOptions { Password = "s3cret" });
        await using var admin = await ConnectionMultiplexer.ConnectAsync(server.ConnectionString);
        await admin.GetDatabase().ExecuteAsync("ACL", ["SETUSER", "booking", "on", ">booking-pass", "~booking:*", "+@all"], Cancellation);

        await using var user = await ConnectionMultiplexer.ConnectAsync($"{server.Host}:{server.Port},user=booking,password=booking-pass");

        Assert.Equal("default", (string?)await admin.GetDatabase().ExecuteAsync("ACL", ["WHOAMI"], Cancellation));
        Assert.Equal("booking", (string?)await user.GetDatabase().ExecuteAsync("ACL", ["WHOAMI"], Cancellation));
        Assert.True(await user.GetDatabase().StringSetAsync("booking:1", "ok", cancellationToken: Cancellation));
        var denied = await Assert.ThrowsAsync<RedisServerException>(() => user.GetDatabase().StringSetAsync("order:1", "no", cancellationToken: Cancellation));
        Assert.StartsWith("NOPERM", denied.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_wrong_or_missing_password_is_an_authentication_failure()
    {
        await using var server = await RedisServer.StartNewAsync(new RedisServerOptions { Password = "s3cret" });

        var wrong = await Assert.ThrowsAsync<RedisConnectionException>(() => ConnectionMultiplexer.ConnectAsync($"{server.Host}:{server.Port},password=nope"));
        var missing = await Assert.ThrowsAsync<RedisConnectionException>(() => ConnectionMultiplexer.ConnectAsync($"{server.Host}:{server.Port}"));

        Assert.Equal(ConnectionFailureType.AuthenticationFailure, wrong.FailureType);
        Assert.Contains("WRONGPASS", wrong.Message, StringComparison.Ordinal);
        Assert.Equal(ConnectionFailureType.AuthenticationFailure, missing.FailureType);
    }

    [Fact]
    public async Task Default_database_selects_and_name_sets_the_client_name()
    {
        var server = await servers.RedisAsync();
        var key = $"db3:{Guid.NewGuid():N}";
        await using var database3 = await ConnectionMultiplexer.ConnectAsync($"{server.ConnectionString},defaultDatabase=3,name=booking-api");
        await using var database0 = await ConnectionMultiplexer.ConnectAsync(server.ConnectionString);

        await database3.GetDatabase().StringSetAsync(key, "x", cancellationToken: Cancellation);

        Assert.Equal(3, database3.GetDatabase().Database);
        Assert.True(await database3.GetDatabase().KeyExistsAsync(key, Cancellation));
        Assert.False(await database0.GetDatabase().KeyExistsAsync(key, Cancellation));
        Assert.Equal("booking-api", (string?)await database3.GetDatabase().ExecuteAsync("CLIENT", ["GETNAME"], Cancellation));
        Assert.Contains(" db=3 ", (string?)await database3.GetDatabase().ExecuteAsync("CLIENT", ["INFO"], Cancellation), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Watch_transactions_and_blocking_reads_run_on_dedicated_connections_in_the_default_database_too()
    {
        var server = await servers.RedisAsync();
        await using var database5 = await ConnectionMultiplexer.ConnectAsync($"{server.ConnectionString},defaultDatabase=5");
        await using var database0 = await ConnectionMultiplexer.ConnectAsync(server.ConnectionString);
        var db = database5.GetDatabase();
        var balance = $"db5:{Guid.NewGuid():N}";
        var stream = $"db5-stream:{Guid.NewGuid():N}";
        await db.StringSetAsync(balance, 10, cancellationToken: Cancellation);
        await db.StreamCreateConsumerGroupAsync(stream, "g", "0", cancellationToken: Cancellation);
        var id = await db.StreamAddAsync(stream, [new NameValueEntry("f", "v")], cancellationToken: Cancellation);

        await using var transaction = db.CreateTransaction();
        await transaction.WatchAsync([balance], Cancellation);
        var incremented = transaction.StringIncrementAsync(balance, 5);
        Assert.True(await transaction.ExecuteAsync(Cancellation));
        var read = await db.StreamReadGroupAsync(stream, "g", "c", block: TimeSpan.FromSeconds(1), cancellationToken: Cancellation);

        Assert.Equal(15, await incremented);
        Assert.Equal(id, Assert.Single(read).Id);
        Assert.False(await database0.GetDatabase().KeyExistsAsync(balance, Cancellation));
    }

    [Fact]
    public async Task Resp3_replies_are_read_into_the_same_shapes_as_resp2()
    {
        var server = await servers.RedisAsync();
        await using var redis = await ConnectionMultiplexer.ConnectAsync($"{server.ConnectionString},protocol=resp3");
        var db = redis.GetDatabase();
        var hash = $"resp3:{Guid.NewGuid():N}";
        var zset = $"resp3z:{Guid.NewGuid():N}";
        var stream = $"resp3s:{Guid.NewGuid():N}";
        await db.HashSetAsync(hash, [new HashEntry("a", 1), new HashEntry("b", 2)], Cancellation);
        await db.SortedSetAddAsync(zset, [new SortedSetEntry("x", 1.5), new SortedSetEntry("y", 2)], cancellationToken: Cancellation);
        await db.StreamCreateConsumerGroupAsync(stream, "g", cancellationToken: Cancellation);
        var id = await db.StreamAddAsync(stream, [new NameValueEntry("f", "v")], cancellationToken: Cancellation);

        Assert.Contains("resp=3", (string?)await db.ExecuteAsync("CLIENT", ["INFO"], Cancellation), StringComparison.Ordinal);
        Assert.Equal(RedisResultType.Map, (await db.ExecuteAsync("HGETALL", [hash], Cancellation)).Type);
        Assert.Equal(2, (await db.HashGetAllAsync(hash, Cancellation)).Length);
        Assert.Equal([new SortedSetEntry("x", 1.5), new SortedSetEntry("y", 2)], await db.SortedSetRangeByRankWithScoresAsync(zset, cancellationToken: Cancellation));
        Assert.Equal(RedisResultType.Double, (await db.ExecuteAsync("ZSCORE", [zset, "x"], Cancellation)).Type);
        Assert.Equal(RedisResultType.Null, (await db.ExecuteAsync("GET", [hash + ":missing"], Cancellation)).Type);
        Assert.Equal(id, Assert.Single(await db.StreamReadGroupAsync(stream, "g", "c", cancellationToken: Cancellation)).Id);
        Assert.Equal(1, (await db.StreamInfoAsync(stream, Cancellation)).Length);

        var received = new TaskCompletionSource<string>();
        await redis.GetSubscriber().SubscribeAsync(RedisChannel.Literal(hash), (_, message) => received.TrySetResult(message.ToString()), Cancellation);
        await redis.GetSubscriber().PublishAsync(RedisChannel.Literal(hash), "pushed", Cancellation);
        Assert.Equal("pushed", await received.Task.WaitAsync(TimeSpan.FromSeconds(10), Cancellation));
    }

    [Fact]
    public async Task Tls_connects_to_redis_tls_port_with_a_custom_certificate_validation()
    {
        var directory = Directory.CreateTempSubdirectory("redis-tls-");
        try
        {
            var certificate = Path.Combine(directory.FullName, "cert.pem");
            var key = Path.Combine(directory.FullName, "key.pem");
            await RunAsync("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", certificate, "-days", "1",
                "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1");
            var tlsPort = LoopbackPorts.Free();
            await using var server = await RedisServer.StartNewAsync(new RedisServerOptions
            {
                Password = "tls-pass",
                Arguments = ["--tls-port", tlsPort.ToString(), "--tls-cert-file", certificate, "--tls-key-file", key, "--tls-ca-cert-file", certificate, "--tls-auth-clients", "no"],
            });
            using var trusted = X509CertificateLoader.LoadCertificateFromFile(certificate);
            var options = ConfigurationOptions.Parse($"127.0.0.1:{tlsPort},ssl=true,sslHost=localhost,password=tls-pass");
            options.CertificateValidation = (_, presented, _, _) => presented is not null && presented.GetCertHashString() == trusted.GetCertHashString();

            await using var redis = await ConnectionMultiplexer.ConnectAsync(options);
            var untrusted = await Assert.ThrowsAsync<RedisConnectionException>(() =>
                ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{tlsPort},ssl=true,sslHost=localhost,password=tls-pass"));

            Assert.True(await redis.GetDatabase().StringSetAsync("tls", "secure", cancellationToken: Cancellation));
            Assert.Equal("secure", (string?)await redis.GetDatabase().StringGetAsync("tls", Cancellation));
            Assert.Equal(ConnectionFailureType.UnableToConnect, untrusted.FailureType);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }


    private static async Task RunAsync(string command, params string[] arguments)
    {
        var start = new ProcessStartInfo(command) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var errors = process.StandardError.ReadToEndAsync(Cancellation);
        await process.StandardOutput.ReadToEndAsync(Cancellation);
        await process.WaitForExitAsync(Cancellation);
        Assert.True(process.ExitCode == 0, $"{command} failed: {await errors}");
    }
}
