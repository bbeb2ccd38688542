namespace ChatHub.LoadTests.Targets;

/// <summary>The muxer that runs .NET programs: set by the SDK for tests, else the current host, else PATH.</summary>
internal static class DotnetHost
{
    public static string Path
    {
        get
        {
            if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host)
            {
                return host;
            }
            string? current = Environment.ProcessPath;
            return current is not null && System.IO.Path.GetFileNameWithoutExtension(current) == "dotnet" ? current : "dotnet";
        }
    }
}
