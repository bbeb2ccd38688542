using System.Diagnostics;
using System.Net;

namespace ChatHub.Tests.Deployment;

/// <summary>
/// The listen address follows ASP.NET Core's conventions on the real server process: each way of naming it puts
/// the server there and nowhere else, and with none the server is on http://localhost:8080.
/// </summary>
public sealed class ListenAddressTests
{
    private static readonly string[] QuietMemoryServer =
        [ServerProcess.ServerDll, "--ChatHub:Storage:Provider=Memory"];

    [Fact]
    public async Task The_urls_argument_sets_the_address()
    {
        int port = ServerProcess.FreePort();
        await AssertServesOnlyAsync(port, $"http://127.0.0.1:{port}", [.. QuietMemoryServer, "--urls", $"http://127.0.0.1:{port}"]);
    }

    [Fact]
    public async Task ASPNETCORE_URLS_sets_the_address()
    {
        int port = ServerProcess.FreePort();
        await AssertServesOnlyAsync(port, $"http://127.0.0.1:{port}", QuietMemoryServer,
            new Dictionary<string, string> { ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}" });
    }

    [Fact]
    public async Task ASPNETCORE_HTTP_PORTS_listens_on_every_interface_at_that_port()
    {
        int port = ServerProcess.FreePort();
        await AssertServesOnlyAsync(port, $"http://[::]:{port}", QuietMemoryServer,
            new Dictionary<string, string> { ["ASPNETCORE_HTTP_PORTS"] = port.ToString() });
    }

    [Fact]
    public async Task Kestrel_endpoints_from_configuration_set_the_address()
    {
        int port = ServerProcess.FreePort();
        await AssertServesOnlyAsync(port, $"http://127.0.0.1:{port}", QuietMemoryServer,
            new Dictionary<string, string> { ["Kestrel__Endpoints__Http__Url"] = $"http://127.0.0.1:{port}" });
    }

    /// <summary>
    /// Port 8080 of this machine may be anyone's, so the server runs in a network namespace of its own (root's
    /// <c>unshare --net</c>, loopback brought up) where 8080 is surely free, and is asked from inside that namespace.
    /// </summary>
    [Fact]
    public async Task With_no_address_configured_the_server_is_on_localhost_8080()
    {
        using var server = await ServerProcess.StartAsync(
            ["--net", "--", "sh", "-c", "ip link set lo up && exec \"$0\" \"$@\"", "dotnet", .. QuietMemoryServer],
            fileName: "unshare");
        Assert.Equal(["http://localhost:8080"], server.ListeningOn);

        var probe = Process.Start(new ProcessStartInfo("nsenter")
        {
            ArgumentList = { "--net=/proc/" + server.Id + "/ns/net", "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "http://localhost:8080/healthz" },
            RedirectStandardOutput = true,
            UseShellExecute = false,
        })!;
        string status = await probe.StandardOutput.ReadToEndAsync();
        await probe.WaitForExitAsync();
        Assert.Equal("200", status);
    }

    private static async Task AssertServesOnlyAsync(
        int port, string expectedAddress, IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null)
    {
        using var server = await ServerProcess.StartAsync(arguments, environment);
        Assert.Equal([expectedAddress], server.ListeningOn);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(15) };
        var response = await http.GetAsync($"http://127.0.0.1:{port}/healthz");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        server.SendSigterm();
        Assert.Equal(0, await server.WaitForExitAsync());
    }
}
