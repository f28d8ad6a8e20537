namespace Aspire.Hosting.ApplicationModel;

/// <summary>
/// PostgreSQL as a local <c>postgres</c> process: the run-mode twin of Aspire's <see cref="PostgresServerResource"/>, with the
/// same name, parameters and connection string (<c>Host=…;Port=…;Username=…;Password=…</c>).
/// </summary>
public sealed class LocalPostgresServerResource(string name, string command, string workingDirectory, ParameterResource? userName, ParameterResource password)
    : ExecutableResource(name, command, workingDirectory), IResourceWithConnectionString
{
    internal const string PrimaryEndpointName = "tcp";
    internal const string DefaultUserName = "postgres";

    public ParameterResource? UserNameParameter { get; } = userName;

    public ParameterResource PasswordParameter { get; } = password;

    public EndpointReference PrimaryEndpoint => new(this, PrimaryEndpointName);

    internal ReferenceExpression UserNameReference => UserNameParameter is null
        ? ReferenceExpression.Create($"{DefaultUserName}")
        : ReferenceExpression.Create($"{UserNameParameter}");

    public ReferenceExpression ConnectionStringExpression => ReferenceExpression.Create(
        $"Host={PrimaryEndpoint.Property(EndpointProperty.Host)};Port={PrimaryEndpoint.Property(EndpointProperty.Port)};Username={UserNameReference};Password={PasswordParameter}");

    /// <summary>Aspire 13's connection properties of a Postgres server (<c>{NAME}_HOST</c>, … for a reference).</summary>
    IEnumerable<KeyValuePair<string, ReferenceExpression>> IResourceWithConnectionString.GetConnectionProperties() =>
    [
        new("Host", ReferenceExpression.Create($"{PrimaryEndpoint.Property(EndpointProperty.Host)}")),
        new("Port", ReferenceExpression.Create($"{PrimaryEndpoint.Property(EndpointProperty.Port)}")),
        new("Username", UserNameReference),
        new("Password", ReferenceExpression.Create($"{PasswordParameter}")),
    ];
}

/// <summary>A database of a <see cref="LocalPostgresServerResource"/>, created when the server is ready; the twin of
/// Aspire's <see cref="PostgresDatabaseResource"/> (<c>{server connection string};Database={name}</c>).</summary>
public sealed class LocalPostgresDatabaseResource(string name, string databaseName, LocalPostgresServerResource parent)
    : Resource(name), IResourceWithParent<LocalPostgresServerResource>, IResourceWithConnectionString
{
    public LocalPostgresServerResource Parent { get; } = parent;

    public string DatabaseName { get; } = databaseName;

    public ReferenceExpression ConnectionStringExpression => ReferenceExpression.Create($"{Parent};Database={DatabaseName}");

    IEnumerable<KeyValuePair<string, ReferenceExpression>> IResourceWithConnectionString.GetConnectionProperties() =>
        Parent.CombineProperties([new("Database", ReferenceExpression.Create($"{DatabaseName}"))]);
}
