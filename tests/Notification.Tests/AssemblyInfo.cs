using CloudScale.Testing;

[assembly: AssemblyFixture(typeof(TestServers))]
