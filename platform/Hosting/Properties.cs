using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("CloudScale.Hosting.Testing")]
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
