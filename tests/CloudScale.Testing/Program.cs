using CloudScale.Testing;

// dotnet run --project tests/CloudScale.Testing: throwaway Redis and Postgres for a developer (or for the
// orphan test, which kills this process with SIGKILL). Prints one line per server, keeps them until stdin
// closes or Ctrl+C, then removes everything.
var redis = await RedisServer.StartNewAsync();
var postgres = await PostgresServer.StartNewAsync();
Console.WriteLine($"root {TestServerRoot.Shared.Path}");
Console.WriteLine($"redis {redis.ProcessId} {redis.ConnectionString}");
Console.WriteLine($"postgres {postgres.ProcessId} {postgres.ConnectionString}");
Console.WriteLine("ready");

var stop = new TaskCompletionSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stop.TrySetResult();
};
await Task.WhenAny(stop.Task, Task.Run(() => Console.In.ReadToEnd()));
await redis.DisposeAsync();
await postgres.DisposeAsync();
TestServerRoot.Shared.Dispose();
