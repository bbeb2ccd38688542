using Microsoft.AspNetCore.Hosting;

namespace ChatHub.Server.Hosting;

/// <summary>
/// Where the server listens when nobody said: <c>http://localhost:8080</c>, for <c>dotnet run</c> and a bare
/// <c>dotnet ChatHub.Server.dll</c> alike. It is applied only when none of ASP.NET Core's own ways names an address
/// (<c>--urls</c>, <c>ASPNETCORE_URLS</c>, <c>ASPNETCORE_HTTP_PORTS</c>/<c>HTTPS_PORTS</c>, <c>Kestrel:Endpoints</c>),
/// so each of those keeps the meaning ASP.NET Core documents. A <c>Urls</c> key in appsettings.json would instead
/// override the environment (JSON files are read after environment variables of the host), which kept containers on
/// loopback.
/// </summary>
internal static class DefaultListenAddress
{
    public const string Url = "http://localhost:8080";

    public static bool IsConfigured(IConfiguration configuration) =>
        !string.IsNullOrWhiteSpace(configuration[WebHostDefaults.ServerUrlsKey])
        || !string.IsNullOrWhiteSpace(configuration[WebHostDefaults.HttpPortsKey])
        || !string.IsNullOrWhiteSpace(configuration[WebHostDefaults.HttpsPortsKey])
        || configuration.GetSection("Kestrel:Endpoints").GetChildren().Any();

    public static void ApplyWhenUnconfigured(WebApplicationBuilder builder)
    {
        if (!IsConfigured(builder.Configuration))
        {
            builder.WebHost.UseUrls(Url);
        }
    }
}
