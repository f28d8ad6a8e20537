using System.Diagnostics;
using System.Security.Cryptography;
using Aspire.Hosting.Dapr;
using Npgsql;

namespace CloudScale.Testing;

/// <summary>
/// A real <c>postgres</c> on a free loopback port with a fresh cluster in a temporary directory, password
/// authentication as Aspire configures it, run as the <c>postgres</c> user when the tests run as root (the
/// server refuses root). Stop, kill and start again keep the port, the cluster and the password.
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    private const string SuperUser = "postgres";
    private static readonly TimeSpan StartDeadline = TimeSpan.FromSeconds(15);
    private static readonly string? RunAsUser = string.Equals(Environment.UserName, "root", StringComparison.Ordinal) ? "postgres" : null;

    // initdb takes a second or more on a small machine; every server of a test process copies one cluster made once.
    private static readonly Lazy<Task<ClusterTemplate>> Template = new(CreateTemplateAsync);
    private static int _instances;
    private readonly string _name;
    private readonly string _directory;
    private ServerProcess? _process;
    private int _databases;

    private PostgresServer(ClusterTemplate template)
    {
        _name = $"postgres-{Interlocked.Increment(ref _instances)}";
        _directory = TestServerRoot.Shared.CreateDirectory(_name);
        Port = LoopbackPorts.Free();
        Password = template.Password;
    }

    public string Host { get; } = "127.0.0.1";

    public int Port { get; }

    public string UserName { get; } = SuperUser;

    public string Password { get; }

    /// <summary>The server connection string in Aspire's format (<c>Host=…;Port=…;Username=…;Password=…</c>).</summary>
    public string ConnectionString => $"Host={Host};Port={Port};Username={UserName};Password={Password}";

    public int? ProcessId => _process?.Id;

    public string DataDirectory => Path.Combine(_directory, "data");

    public string LogFile => Path.Combine(_directory, "postgres.log");

    public static async Task<PostgresServer> StartNewAsync()
    {
        var template = await Template.Value;
        var server = new PostgresServer(template);
        await server.CopyClusterAsync(template);
        await server.StartAsync();
        return server;
    }

    public async Task StartAsync()
    {
        if (_process is { HasExited: false })
        {
            return;
        }

        string[] arguments =
        [
            "-D", DataDirectory, "-p", Port.ToString(),
            "-c", $"listen_addresses={Host}", "-c", "unix_socket_directories=",
            "-c", "max_connections=300", "-c", "shared_buffers=32MB",
            // Throwaway data: durability costs time and buys nothing here.
            "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
        ];
        _process = ServerProcess.Start(_name, LogFile, RunAsUser, Path.Combine(Prerequisites.PostgresBinDirectory(), "postgres"), arguments);
        await _process.WaitUntilReadyAsync(CanQueryAsync, StartDeadline, LogFile);
    }

    /// <summary>A fast shutdown, as an orchestrator's stop would: SIGINT, because SIGTERM is Postgres's "smart"
    /// shutdown, which waits for every pooled client connection to close.</summary>
    public async Task StopAsync()
    {
        if (_process is not null)
        {
            await _process.StopAsync("INT", TimeSpan.FromSeconds(10));
            _process = null;
        }
    }

    public void Kill()
    {
        _process?.Kill();
        _process = null;
    }

    /// <summary>Creates an empty database and returns its connection string (<c>…;Database=name</c>, as Aspire's AddDatabase).</summary>
    public async Task<string> CreateDatabaseAsync(string? name = null)
    {
        name ??= $"test_{Interlocked.Increment(ref _databases)}_{Convert.ToHexString(RandomNumberGenerator.GetBytes(4)).ToLowerInvariant()}";
        await using var connection = new NpgsqlConnection(ConnectionString + ";Database=postgres;Pooling=false");
        await connection.OpenAsync();
        // Identifiers cannot be parameters; the name is quoted with the server's own quoting function.
        await using var quote = new NpgsqlCommand("SELECT quote_ident(@name)", connection) { Parameters = { new("name", name) } };
        var quoted = (string)(await quote.ExecuteScalarAsync())!;
        await using var create = new NpgsqlCommand($"CREATE DATABASE {quoted}", connection);
        await create.ExecuteNonQueryAsync();
        return $"{ConnectionString};Database={name}";
    }

    public string ReadLog() => ServerProcess.Tail(LogFile, int.MaxValue);

    public async ValueTask DisposeAsync() => await StopAsync();

    private async Task CopyClusterAsync(ClusterTemplate template)
    {
        await ChownToServerUserAsync(_directory);
        // cp -a as the server's user keeps the 0700 modes and the ownership postgres insists on.
        await RunAsync("/bin/cp", ["-a", template.DataDirectory, DataDirectory], RunAsUser);
    }

    private static async Task<ClusterTemplate> CreateTemplateAsync()
    {
        var directory = TestServerRoot.Shared.CreateDirectory("postgres-template");
        await ChownToServerUserAsync(directory);
        var template = new ClusterTemplate(Path.Combine(directory, "data"), Convert.ToHexString(RandomNumberGenerator.GetBytes(12)).ToLowerInvariant());
        var passwordFile = Path.Combine(directory, "pwfile");
        await File.WriteAllTextAsync(passwordFile, template.Password);
        try
        {
            await RunAsync(Path.Combine(Prerequisites.PostgresBinDirectory(), "initdb"),
            [
                "-D", template.DataDirectory, "-U", SuperUser, "--pwfile", passwordFile,
                "--auth-local=trust", "--auth-host=scram-sha-256",
                "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions",
            ], RunAsUser);
        }
        finally
        {
            File.Delete(passwordFile);
        }

        return template;
    }

    private static async Task ChownToServerUserAsync(string directory)
    {
        if (RunAsUser is not null)
        {
            await RunAsync("/bin/chown", [$"{RunAsUser}:", directory], asUser: null);
        }
    }

    private static async Task RunAsync(string command, string[] arguments, string? asUser)
    {
        var start = new ProcessStartInfo(asUser is null ? command : "/usr/bin/setpriv")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        if (asUser is not null)
        {
            foreach (var argument in new[] { $"--reuid={asUser}", $"--regid={asUser}", "--init-groups", command })
            {
                start.ArgumentList.Add(argument);
            }
        }

        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {command}.");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{Path.GetFileName(command)} failed with exit code {process.ExitCode}:\n{await output}{await error}");
        }
    }

    private async Task<bool> CanQueryAsync(CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(ConnectionString + ";Database=postgres;Pooling=false;Timeout=1");
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand("SELECT 1", connection);
        return (int)(await command.ExecuteScalarAsync(cancellationToken))! == 1;
    }

    private sealed record ClusterTemplate(string DataDirectory, string Password);
}
