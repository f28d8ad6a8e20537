using CloudScale.Testing;

[assembly: AssemblyFixture(typeof(TestServers))]
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
