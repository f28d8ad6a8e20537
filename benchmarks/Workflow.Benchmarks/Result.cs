namespace CloudScale.Workflow.Benchmarks;

/// <summary>One row of the table and of the JSON file.</summary>
internal sealed record Result(string Workflow, int Count, int Concurrency, double WorkflowsPerSecond, double P50Milliseconds, double P99Milliseconds);
