using System.Diagnostics;
using Aspire.Hosting;
using Aspire.Hosting.Testing;
using CloudScale.Redis;
using CloudScale.Testing;
using Npgsql;

namespace CloudScale.Hosting.Tests;

/// <summary>What outlives a run (persistent data) and what must not (processes, throwaway data).</summary>
public sealed class LifetimeTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Persistent_data_survives_an_apphost_restart_and_throwaway_data_does_not()
    {
        var dataDirectory = Directory.CreateTempSubdirectory("cloudscale-persistence-").FullName;
        // Postgres runs as its own user when the tests run as root: it must be able to reach its data below this directory.
        File.SetUnixFileMode(dataDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute |
            UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        try
        {
            await RunAsync(dataDirectory, ephemeral: false, async (redis, postgres) =>
            {
                await redis.GetDatabase().StringSetAsync("kept", "across runs", cancellationToken: Cancellation);
                await using var command = new NpgsqlCommand("CREATE TABLE kept (value text); INSERT INTO kept VALUES ('across runs')", postgres);
                await command.ExecuteNonQueryAsync(Cancellation);
            });

            await RunAsync(dataDirectory, ephemeral: false, async (redis, postgres) =>
            {
                Assert.Equal("across runs", (string?)await redis.GetDatabase().StringGetAsync("kept", Cancellation));
                await using var command = new NpgsqlCommand("SELECT value FROM kept", postgres);
                Assert.Equal("across runs", await command.ExecuteScalarAsync(Cancellation));
            });

            await RunAsync(dataDirectory, ephemeral: true, async (redis, postgres) =>
            {
                Assert.Null((string?)await redis.GetDatabase().StringGetAsync("kept", Cancellation));
                await using var command = new NpgsqlCommand("SELECT to_regclass('kept') IS NULL", postgres);
                Assert.Equal(true, await command.ExecuteScalarAsync(Cancellation));
            });
        }
        finally
        {
            Directory.Delete(dataDirectory, recursive: true);
        }
    }

    [Fact]
    public async Task Killing_the_apphost_leaves_no_child_process_behind()
    {
        var dataDirectory = Directory.CreateTempSubdirectory("cloudscale-killed-apphost-").FullName;
        var appHost = new Projects.TinyAppHost().TargetPath;
        using var process = Process.Start(new ProcessStartInfo("dotnet")
        {
            ArgumentList = { appHost, "--AppHost:EphemeralData=true", $"--AppHost:DataDirectory={dataDirectory}" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        })!;
        try
        {
            var output = new ProcessOutput(process);
            await Poll.UntilAsync(() => output.Text.Contains("resources healthy", StringComparison.Ordinal), Deadline, () => "The AppHost never reported healthy:\n" + output.Text);
            var children = ProcessInfo.DescendantsOf(process.Id);
            // Redis, two replicas of echo and the reaper at least.
            Assert.True(children.Count >= 4, $"Expected the AppHost's processes, found {children.Count}.\n{output.Text}");

            process.Kill();

            await Poll.UntilAsync(() => !children.Any(ProcessInfo.IsRunning), TimeSpan.FromSeconds(15),
                () => "Still running after the AppHost was killed: " + string.Join(", ", children.Where(ProcessInfo.IsRunning)));
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            Directory.Delete(dataDirectory, recursive: true);
        }
    }

    [Fact]
    public async Task A_missing_redis_server_is_reported_as_runtime_unhealthy_with_the_command_to_install_it()
    {
        var dataDirectory = Directory.CreateTempSubdirectory("cloudscale-no-redis-").FullName;
        // The runtime lives in <dotnet root>/shared/Microsoft.NETCore.App/<version>/.
        var dotnetRoot = Path.GetFullPath(Path.Combine(System.Runtime.InteropServices.RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", ".."));
        var start = new ProcessStartInfo(Path.Combine(dotnetRoot, "dotnet"))
        {
            ArgumentList = { new Projects.TinyAppHost().TargetPath, "--AppHost:EphemeralData=true", $"--AppHost:DataDirectory={dataDirectory}" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // Only dotnet's own directory on PATH: the AppHost finds dotnet but not redis-server.
        start.Environment["PATH"] = dotnetRoot;
        using var process = Process.Start(start)!;
        try
        {
            var output = new ProcessOutput(process);
            await Poll.UntilAsync(() => output.Text.Contains("RuntimeUnhealthy", StringComparison.Ordinal), Deadline, () => "No RuntimeUnhealthy state:\n" + output.Text);

            Assert.Contains("cache", output.Text.Split('\n').First(line => line.Contains("RuntimeUnhealthy", StringComparison.Ordinal)), StringComparison.Ordinal);
            Assert.Contains("apt-get install -y redis-server", output.Text, StringComparison.Ordinal);
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            Directory.Delete(dataDirectory, recursive: true);
        }
    }

    private static async Task RunAsync(string dataDirectory, bool ephemeral, Func<IConnectionMultiplexer, NpgsqlConnection, Task> use)
    {
        await using var builder = DistributedApplicationTestingBuilder.Create();
        builder.Configuration["AppHost:DataDirectory"] = dataDirectory;
        builder.Configuration["AppHost:EphemeralData"] = ephemeral ? "true" : "false";
        builder.AddRedis("cache");
        builder.AddPostgres("pg").AddDatabase("db");
        await using var app = await AppModelTests.StartHealthyAsync(builder, "cache", "db");
        await using var redis = await ConnectionMultiplexer.ConnectAsync((await app.GetConnectionStringAsync("cache"))!);
        await using var postgres = new NpgsqlConnection(await app.GetConnectionStringAsync("db"));
        await postgres.OpenAsync(Cancellation);
        await use(redis, postgres);
    }

    /// <summary>Collects a child process's output as it arrives, for polling and for failure messages.</summary>
    private sealed class ProcessOutput
    {
        private readonly System.Text.StringBuilder _text = new();

        public ProcessOutput(Process process)
        {
            process.OutputDataReceived += (_, line) => Append(line.Data);
            process.ErrorDataReceived += (_, line) => Append(line.Data);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
        }

        public string Text
        {
            get
            {
                lock (_text)
                {
                    return _text.ToString();
                }
            }
        }

        private void Append(string? line)
        {
            lock (_text)
            {
                _text.AppendLine(line);
            }
        }
    }
}
