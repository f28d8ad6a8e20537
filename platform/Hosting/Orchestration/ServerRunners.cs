using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

namespace Aspire.Hosting.Orchestration;

/// <summary>A server resource run as one supervised process with its own log.</summary>
internal abstract class ServerRunner(IResource server, OrchestrationContext context) : ResourceRunner(server, context)
{
    private SupervisedProcess? _process;
    private ResourceLog? _log;

    public override int StopOrder => 2;

    public override string? LogFile => _log?.Path;

    public override IReadOnlyList<SupervisedProcess> Processes => _process is null ? [] : [_process];

    protected ResourceLog Log => _log ??= Context.OpenLog(Resource.Name);

    public override async Task StopAsync()
    {
        if (_process is not null)
        {
            await _process.StopAsync();
        }

        _log?.Dispose();
    }

    /// <param name="stopSignal">The signal that makes this server shut down fast but cleanly.</param>
    protected void Supervise(Func<ProcessStartInfo> describeStart, Func<CancellationToken, Task<bool>> isHealthy, string stopSignal)
    {
        _process = new SupervisedProcess(Resource.Name, describeStart, isHealthy, stopSignal, Log, Context.Reaper,
            replica => PublishReplica(0, 1, replica, _process?.Restarts ?? 0));
        _process.Start();
    }
}

/// <summary>The real redis-server, persisting to an RDB file (save 60 1, and at shutdown) unless data is throwaway.</summary>
internal sealed class RedisRunner(RedisResource redis, OrchestrationContext context) : ServerRunner(redis, context)
{
    public override Task StartAsync(CancellationToken cancellationToken)
    {
        var directory = Directory.CreateDirectory(Context.DataDirectoryOf(redis)).FullName;
        var redisServer = Prerequisites.RedisServer();
        Supervise(() => new ProcessStartInfo(redisServer)
        {
            ArgumentList =
            {
                "--port", redis.Port.ToString(), "--bind", "127.0.0.1", "-::1", "--protected-mode", "yes",
                "--requirepass", redis.Password.Value, "--dir", directory, "--daemonize", "no",
                "--save", Context.Builder.EphemeralData ? "" : "60 1", "--appendonly", "no",
            },
        }, PingAsync, "TERM");
        return Task.CompletedTask;
    }

    private async Task<bool> PingAsync(CancellationToken cancellationToken)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, redis.Port), cancellationToken);
        var password = redis.Password.Value;
        var request = $"*2\r\n$4\r\nAUTH\r\n${Encoding.UTF8.GetByteCount(password)}\r\n{password}\r\n*1\r\n$4\r\nPING\r\n";
        await socket.SendAsync(Encoding.UTF8.GetBytes(request), cancellationToken);
        var reply = new StringBuilder();
        var buffer = new byte[64];
        while (!reply.ToString().Contains("PONG", StringComparison.Ordinal) && !reply.ToString().Contains('-'))
        {
            var read = await socket.ReceiveAsync(buffer, cancellationToken);
            if (read == 0)
            {
                return false;
            }

            reply.Append(Encoding.ASCII.GetString(buffer, 0, read));
        }

        return reply.ToString() == "+OK\r\n+PONG\r\n";
    }
}

/// <summary>
/// The real postgres with password (scram) authentication, its cluster created on first run. Run as the
/// postgres user when the AppHost runs as root, because the server refuses root.
/// </summary>
internal sealed class PostgresRunner(PostgresServerResource postgres, OrchestrationContext context) : ServerRunner(postgres, context)
{
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        var bin = Prerequisites.PostgresBinDirectory();
        var directory = Context.DataDirectoryOf(postgres);
        await InitializeClusterAsync(bin, directory, cancellationToken);

        List<string> arguments =
        [
            "-D", directory, "-p", postgres.Port.ToString(), "-c", "listen_addresses=localhost", "-c", "unix_socket_directories=",
            // One server holds every service's database and the sidecars' state stores, each client with a pool of up to
            // 100 connections (Npgsql's default): Postgres' default of 100 in all runs out under a burst of requests.
            "-c", "max_connections=500",
        ];
        if (Context.Builder.EphemeralData)
        {
            arguments.AddRange(["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]);
        }

        Supervise(() => AsServerUser(Path.Combine(bin, "postgres"), arguments), CanQueryAsync, "INT");
    }

    private async Task InitializeClusterAsync(string bin, string directory, CancellationToken cancellationToken)
    {
        if (File.Exists(Path.Combine(directory, "PG_VERSION")))
        {
            return;
        }

        Directory.CreateDirectory(directory);
        if (OrchestrationContext.RunningAsRoot)
        {
            await RunToCompletionAsync(new ProcessStartInfo("/bin/chown") { ArgumentList = { "-R", "postgres:", directory } }, cancellationToken);
        }

        var passwordFile = Path.Combine(Context.Reaper.Directory, $"{postgres.Name}.pwfile");
        await File.WriteAllTextAsync(passwordFile, postgres.Password.Value, cancellationToken);
        File.SetUnixFileMode(passwordFile, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        try
        {
            Log.Write($"[apphost] creating a new cluster in {directory}");
            List<string> arguments =
            [
                "-D", directory, "-U", postgres.UserName, "--pwfile", passwordFile, "--auth-local=trust", "--auth-host=scram-sha-256",
                "-E", "UTF8", "--locale=C", "--no-instructions",
            ];
            if (Context.Builder.EphemeralData)
            {
                arguments.Add("--no-sync");
            }

            await RunToCompletionAsync(AsServerUser(Path.Combine(bin, "initdb"), arguments), cancellationToken);
        }
        finally
        {
            File.Delete(passwordFile);
        }
    }

    private static ProcessStartInfo AsServerUser(string command, IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(OrchestrationContext.RunningAsRoot ? "/usr/bin/setpriv" : command);
        if (OrchestrationContext.RunningAsRoot)
        {
            foreach (var argument in new[] { "--reuid=postgres", "--regid=postgres", "--init-groups", command })
            {
                start.ArgumentList.Add(argument);
            }
        }

        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        return start;
    }

    private static async Task RunToCompletionAsync(ProcessStartInfo start, CancellationToken cancellationToken)
    {
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        using var process = Process.Start(start) ?? throw new DistributedApplicationException($"Could not start {start.FileName}.");
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var error = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        if (process.ExitCode != 0)
        {
            throw new DistributedApplicationException($"{Path.GetFileName(start.FileName)} {string.Join(' ', start.ArgumentList)} failed ({process.ExitCode}): {await output}{await error}");
        }
    }

    private async Task<bool> CanQueryAsync(CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection($"{postgres.ConnectionString};Database=postgres;Pooling=false;Timeout=2");
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand("SELECT 1", connection);
        return await command.ExecuteScalarAsync(cancellationToken) is 1;
    }
}

/// <summary>A database: created (if missing) once its server is healthy, then reported Running and Healthy.</summary>
internal sealed class PostgresDatabaseRunner(PostgresDatabaseResource database, OrchestrationContext context) : ResourceRunner(database, context)
{
    public override int StopOrder => 1;

    public override string? LogFile => null;

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        PublishState(KnownResourceStates.Waiting, null);
        while (true)
        {
            await Context.Notifications.WaitForResourceHealthyAsync(database.Server.Name, cancellationToken);
            try
            {
                await CreateIfMissingAsync(cancellationToken);
                PublishState(KnownResourceStates.Running, HealthStatus.Healthy);
                return;
            }
            catch (NpgsqlException)
            {
                // The server went down between its health check and our command: wait for it again.
                await Task.Delay(TimeSpan.FromMilliseconds(200), cancellationToken);
            }
        }
    }

    public override Task StopAsync()
    {
        PublishState(KnownResourceStates.Finished, null);
        return Task.CompletedTask;
    }

    private async Task CreateIfMissingAsync(CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection($"{database.Server.ConnectionString};Database=postgres;Pooling=false");
        await connection.OpenAsync(cancellationToken);
        await using var exists = new NpgsqlCommand("SELECT count(*) FROM pg_database WHERE datname = @name", connection)
        {
            Parameters = { new("name", database.DatabaseName) },
        };
        if ((long)(await exists.ExecuteScalarAsync(cancellationToken))! > 0)
        {
            return;
        }

        // An identifier cannot be a parameter: quote it with the server's own function.
        await using var quote = new NpgsqlCommand("SELECT quote_ident(@name)", connection) { Parameters = { new("name", database.DatabaseName) } };
        var quoted = (string)(await quote.ExecuteScalarAsync(cancellationToken))!;
        await using var create = new NpgsqlCommand($"CREATE DATABASE {quoted}", connection);
        await create.ExecuteNonQueryAsync(cancellationToken);
    }
}
