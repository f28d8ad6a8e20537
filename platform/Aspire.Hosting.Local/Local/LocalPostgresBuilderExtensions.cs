using System.Diagnostics;
using System.Globalization;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Dapr;
using Aspire.Hosting.Local;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Aspire.Hosting;

public static partial class LocalPostgresBuilderExtensions
{
    private const string ServerUser = "postgres";

    /// <summary>
    /// In run mode, runs this PostgreSQL as a local <c>postgres</c> process (Debian's <c>postgresql</c> package) instead of
    /// a container, its cluster created on first start under <c>.cloudscale/data</c> (or emptied every start with
    /// <c>AppHost:EphemeralData</c>); in publish mode it stays Aspire's Postgres container. Databases are added with
    /// <see cref="AddDatabase"/>, in both modes.
    /// </summary>
    public static IResourceBuilder<IResourceWithConnectionString> RunAsLocalProcess(this IResourceBuilder<PostgresServerResource> postgres)
    {
        ArgumentNullException.ThrowIfNull(postgres);
        var app = postgres.ApplicationBuilder;
        if (app.ExecutionContext.IsPublishMode)
        {
            return postgres;
        }

        var name = postgres.Resource.Name;
        var bin = PostgresBinDirectory();
        var asServerUser = Environment.IsPrivilegedProcess;
        var server = new LocalPostgresServerResource(
            name, asServerUser ? "/usr/bin/setpriv" : Path.Combine(bin, "postgres"), app.AppHostDirectory, postgres.Resource.UserNameParameter, postgres.Resource.PasswordParameter);
        var local = LocalProcessData.Replace(postgres, server)
            .WithEndpoint(port: LoopbackPorts.Free(), isProxied: false, name: LocalPostgresServerResource.PrimaryEndpointName, scheme: "tcp")
            .WithIconName("Database");
        var directory = LocalProcessData.DirectoryOf(app, name);
        local.WithArgs(context => AddServerArguments(context.Args, server, bin, directory, asServerUser, LocalProcessData.IsEphemeral(app)));

        app.Eventing.Subscribe<BeforeResourceStartedEvent>(server, async (@event, cancellationToken) =>
        {
            var logger = @event.Services.GetRequiredService<ResourceLoggerService>().GetLogger(server);
            LocalProcessData.Prepare(app, name);
            await PrepareClusterAsync(server, bin, directory, asServerUser, logger, cancellationToken);
        });
        app.Eventing.Subscribe<ResourceReadyEvent>(server, async (@event, cancellationToken) =>
        {
            var databases = app.Resources.OfType<LocalPostgresDatabaseResource>().Where(database => database.Parent == server).ToList();
            await CreateDatabasesAsync(server, databases, @event.Services.GetRequiredService<ResourceLoggerService>().GetLogger(server), cancellationToken);
            // DCP runs no process for a database: it is Running once it exists, and its health check takes over from there.
            var notifications = @event.Services.GetRequiredService<ResourceNotificationService>();
            foreach (var database in databases)
            {
                await notifications.PublishUpdateAsync(database, snapshot => snapshot with
                {
                    State = KnownResourceStates.Running,
                    StartTimeStamp = DateTime.UtcNow,
                    ResourceType = "PostgresDatabase",
                });
            }
        });

        // Aspire's own "{name}_check" stays registered for the container this resource replaced.
        var healthCheck = $"{name}_local_check";
        app.Services.AddHealthChecks().AddNpgSql(LocalProcessData.ConnectionStringOnceAvailable(app, server, ";Database=postgres"), name: healthCheck);
        return local.WithHealthCheck(healthCheck);
    }

    /// <summary>
    /// Adds a database to a Postgres server: Aspire's <see cref="PostgresBuilderExtensions.AddDatabase"/> for its container,
    /// created (if missing) once the server is ready for a server run as a local process.
    /// </summary>
    public static IResourceBuilder<IResourceWithConnectionString> AddDatabase(
        this IResourceBuilder<IResourceWithConnectionString> server, string name, string? databaseName = null)
    {
        ArgumentNullException.ThrowIfNull(server);
        var app = server.ApplicationBuilder;
        switch (server.Resource)
        {
            case PostgresServerResource container:
                return app.CreateResourceBuilder(container).AddDatabase(name, databaseName);
            case LocalPostgresServerResource local:
                var database = new LocalPostgresDatabaseResource(name, databaseName ?? name, local);
                var healthCheck = $"{name}_check";
                app.Services.AddHealthChecks().AddNpgSql(LocalProcessData.ConnectionStringOnceAvailable(app, database), name: healthCheck);
                return app.AddResource(database).WithParentRelationship(local).WithHealthCheck(healthCheck);
            default:
                throw new ArgumentException($"'{server.Resource.Name}' is not a Postgres server.", nameof(server));
        }
    }

    private static void AddServerArguments(IList<object> args, LocalPostgresServerResource server, string bin, string directory, bool asServerUser, bool ephemeral)
    {
        if (asServerUser)
        {
            // postgres refuses to run as root.
            AddAll(args, [$"--reuid={ServerUser}", $"--regid={ServerUser}", "--init-groups", Path.Combine(bin, "postgres")]);
        }

        AddAll(args, ["-D", directory, "-p", server.PrimaryEndpoint.Port.ToString(CultureInfo.InvariantCulture), "-c", "listen_addresses=localhost",
            "-c", "unix_socket_directories=",
            // One server holds every service's database and the sidecars' state stores, each client with a pool of up to
            // 100 connections (Npgsql's default): Postgres' default of 100 in all runs out under a burst of requests.
            "-c", "max_connections=500"]);
        if (ephemeral)
        {
            AddAll(args, ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]);
        }
    }

    private static void AddAll(IList<object> args, IEnumerable<string> values)
    {
        foreach (var value in values)
        {
            args.Add(value);
        }
    }

    private static string PostgresBinDirectory() =>
        Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").Select(version => Path.Combine(version, "bin")).Where(bin => File.Exists(Path.Combine(bin, "postgres")))
                .OrderByDescending(bin => bin, StringComparer.Ordinal).FirstOrDefault() ?? "/usr/lib/postgresql/bin"
            : "/usr/lib/postgresql/bin";

    /// <summary>
    /// Creates the cluster on first start (scram for TCP, the only way in). On later starts it sets the superuser's password
    /// to the current parameter value in single-user mode, so that data kept between runs survives a regenerated password.
    /// </summary>
    private static async Task PrepareClusterAsync(
        LocalPostgresServerResource server, string bin, string directory, bool asServerUser, ILogger logger, CancellationToken cancellationToken)
    {
        if (asServerUser)
        {
            await RunAsync("/bin/chown", ["-R", $"{ServerUser}:", directory], null, cancellationToken);
        }

        var userName = await server.UserNameReference.GetValueAsync(cancellationToken) ?? LocalPostgresServerResource.DefaultUserName;
        var password = await server.PasswordParameter.GetValueAsync(cancellationToken) ?? "";
        if (!File.Exists(Path.Combine(directory, "PG_VERSION")))
        {
            LogCreatingCluster(logger, directory);
            var passwordFile = Path.Combine(directory, "..", $"{server.Name}.pwfile");
            await File.WriteAllTextAsync(passwordFile, password, cancellationToken);
            File.SetUnixFileMode(passwordFile, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
            try
            {
                await RunAsync(Path.Combine(bin, "initdb"),
                    ["-D", directory, "-U", userName, "--pwfile", Path.GetFullPath(passwordFile), "--auth-local=trust", "--auth-host=scram-sha-256",
                     "-E", "UTF8", "--locale=C", "--no-instructions", "--no-sync"],
                    null, cancellationToken, asServerUser);
            }
            finally
            {
                File.Delete(passwordFile);
            }

            return;
        }

        var sql = $"ALTER ROLE \"{userName.Replace("\"", "\"\"", StringComparison.Ordinal)}\" PASSWORD '{password.Replace("'", "''", StringComparison.Ordinal)}';\n";
        await RunAsync(Path.Combine(bin, "postgres"), ["--single", "-D", directory, "-j", "postgres"], sql, cancellationToken, asServerUser);
    }

    private static async Task CreateDatabasesAsync(
        LocalPostgresServerResource server, List<LocalPostgresDatabaseResource> databases, ILogger logger, CancellationToken cancellationToken)
    {
        var connectionString = await server.ConnectionStringExpression.GetValueAsync(cancellationToken);
        await using var connection = new NpgsqlConnection($"{connectionString};Database=postgres;Pooling=false");
        await connection.OpenAsync(cancellationToken);
        foreach (var databaseName in databases.Select(database => database.DatabaseName))
        {
            await using var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = $1", connection) { Parameters = { new() { Value = databaseName } } };
            if (await exists.ExecuteScalarAsync(cancellationToken) is null)
            {
                // CREATE DATABASE takes no parameters: the name is quoted as an identifier.
                await using var create = new NpgsqlCommand($"CREATE DATABASE \"{databaseName.Replace("\"", "\"\"", StringComparison.Ordinal)}\"", connection);
                await create.ExecuteNonQueryAsync(cancellationToken);
                LogCreatedDatabase(logger, databaseName);
            }
        }
    }

    private static async Task RunAsync(string command, IReadOnlyList<string> arguments, string? input, CancellationToken cancellationToken, bool asServerUser = false)
    {
        var start = new ProcessStartInfo(asServerUser ? "/usr/bin/setpriv" : command)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = input is not null,
        };
        if (asServerUser)
        {
            foreach (var argument in new[] { $"--reuid={ServerUser}", $"--regid={ServerUser}", "--init-groups", command })
            {
                start.ArgumentList.Add(argument);
            }
        }

        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new DistributedApplicationException($"Could not start {command}.");
        if (input is not null)
        {
            await process.StandardInput.WriteAsync(input.AsMemory(), cancellationToken);
            process.StandardInput.Close();
        }

        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var error = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        if (process.ExitCode != 0)
        {
            throw new DistributedApplicationException($"{Path.GetFileName(command)} failed ({process.ExitCode}): {await output}{await error}");
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Creating a new cluster in {Directory}")]
    private static partial void LogCreatingCluster(ILogger logger, string directory);

    [LoggerMessage(Level = LogLevel.Information, Message = "Created database {Database}")]
    private static partial void LogCreatedDatabase(ILogger logger, string database);
}
