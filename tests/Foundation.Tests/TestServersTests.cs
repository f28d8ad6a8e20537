using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using CloudScale.Testing;
using Npgsql;

namespace CloudScale.Foundation.Tests;

// Alone, not beside other test classes: the start-up time it checks is the servers', not the machine's load.
[Collection(nameof(TestServersTests))]
public sealed class TestServersTests(TestServers servers)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task Shared_redis_answers_a_real_command()
    {
        var redis = await servers.RedisAsync();

        using var client = new TcpClient();
        await client.ConnectAsync(redis.Host, redis.Port, TestContext.Current.CancellationToken);
        var stream = client.GetStream();
        await stream.WriteAsync("*3\r\n$3\r\nSET\r\n$5\r\nhello\r\n$5\r\nworld\r\n*2\r\n$3\r\nGET\r\n$5\r\nhello\r\n"u8.ToArray(), TestContext.Current.CancellationToken);

        var expected = "+OK\r\n$5\r\nworld\r\n";
        var received = new StringBuilder();
        var buffer = new byte[256];
        while (received.Length < expected.Length)
        {
            var read = await stream.ReadAsync(buffer, TestContext.Current.CancellationToken);
            Assert.NotEqual(0, read);
            received.Append(Encoding.ASCII.GetString(buffer, 0, read));
        }

        Assert.Equal(expected, received.ToString());
    }

    [Fact]
    public async Task Fresh_database_answers_a_real_query_and_is_empty()
    {
        var connectionString = await servers.CreateDatabaseAsync();

        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using var command = new NpgsqlCommand(
            "SELECT current_database(), (SELECT count(*) FROM pg_tables WHERE schemaname = 'public'), current_user", connection);
        await using var reader = await command.ExecuteReaderAsync(TestContext.Current.CancellationToken);
        Assert.True(await reader.ReadAsync(TestContext.Current.CancellationToken));

        Assert.Equal(new NpgsqlConnectionStringBuilder(connectionString).Database, reader.GetString(0));
        Assert.Equal(0, reader.GetInt64(1));
        Assert.Equal("postgres", reader.GetString(2));
    }

    [Fact]
    public async Task Postgres_rejects_a_wrong_password()
    {
        var postgres = await servers.PostgresAsync();

        await using var connection = new NpgsqlConnection($"Host={postgres.Host};Port={postgres.Port};Username=postgres;Password=wrong;Database=postgres;Pooling=false");
        var error = await Assert.ThrowsAsync<PostgresException>(() => connection.OpenAsync(TestContext.Current.CancellationToken));

        Assert.Equal(PostgresErrorCodes.InvalidPassword, error.SqlState);
    }

    [Fact]
    public async Task Servers_start_in_under_three_seconds_and_disposal_leaves_nothing_behind()
    {
        var started = Stopwatch.StartNew();
        var redisTask = RedisServer.StartNewAsync();
        var postgresTask = PostgresServer.StartNewAsync();
        var redis = await redisTask;
        var postgres = await postgresTask;
        var startup = started.Elapsed;
        int[] pids = [redis.ProcessId!.Value, postgres.ProcessId!.Value];
        string[] directories = [redis.DataDirectory, postgres.DataDirectory];

        await redis.DisposeAsync();
        await postgres.DisposeAsync();

        Assert.True(startup < TimeSpan.FromSeconds(3), $"Both servers took {startup.TotalSeconds:0.00} s to become ready.");
        Assert.All(pids, pid => Assert.False(ProcessInfo.IsRunning(pid), $"Server process {pid} is still running."));
        Assert.All(directories, directory => Assert.True(Directory.Exists(directory), "Stopping keeps the data for a restart."));
    }

    [Fact]
    public async Task Killing_the_owning_process_kills_its_servers_and_removes_their_directories()
    {
        using var owner = StartProbe();
        var lines = new Dictionary<string, string>(StringComparer.Ordinal);
        while (await owner.StandardOutput.ReadLineAsync(TestContext.Current.CancellationToken) is { } line && line != "ready")
        {
            var parts = line.Split(' ', 2);
            lines[parts[0]] = parts[1];
        }

        if (!lines.ContainsKey("root"))
        {
            Assert.Fail("The probe did not report its servers: " + await owner.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken));
        }

        var root = lines["root"];
        int[] serverPids = [int.Parse(lines["redis"].Split(' ')[0]), int.Parse(lines["postgres"].Split(' ')[0])];
        Assert.All(serverPids, pid => Assert.True(ProcessInfo.IsRunning(pid)));
        Assert.True(Directory.Exists(root));

        owner.Kill(); // SIGKILL: no finalizer, no ProcessExit handler runs.

        await Poll.UntilAsync(() => !serverPids.Any(ProcessInfo.IsRunning) && !Directory.Exists(root), Deadline,
            () => $"Left behind: {string.Join(", ", serverPids.Where(ProcessInfo.IsRunning))} {(Directory.Exists(root) ? root : "")}");
    }

    private static Process StartProbe()
    {
        // The probe is CloudScale.Testing's own entry point, run with this assembly's runtime and dependency files.
        var directory = AppContext.BaseDirectory;
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList =
            {
                "exec",
                "--runtimeconfig", Path.Combine(directory, "Foundation.Tests.runtimeconfig.json"),
                "--depsfile", Path.Combine(directory, "Foundation.Tests.deps.json"),
                Path.Combine(directory, "CloudScale.Testing.dll"),
            },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        return Process.Start(start)!;
    }
}

[CollectionDefinition(nameof(TestServersTests), DisableParallelization = true)]
public sealed class RunsAlone;

