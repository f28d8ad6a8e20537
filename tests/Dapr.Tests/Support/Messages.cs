namespace CloudScale.Dapr.Tests.Support;

/// <summary>The messages the test apps exchange.</summary>
public sealed record Order(string Id, int Quantity, string Status);

public sealed record Confirmation(string OrderId, string State);

public sealed record Echo(string Method, string Path, string Query, string Body);
