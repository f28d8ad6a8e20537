[assembly: AssemblyFixture(typeof(TestServers))]
