using System.Reflection;

namespace ChatHub.Server;

/// <summary>What the server calls itself in <c>welcome.server</c>.</summary>
public static class ServerInfo
{
    public static readonly string Version =
        typeof(ServerInfo).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    public static readonly string ProductAndVersion = $"ChatHub/{Version}";
}
