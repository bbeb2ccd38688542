using System.Diagnostics;
using System.Text.Json.Nodes;
using ChatHub.Tests.Deployment;
using ChatHub.Tests.Infrastructure;

namespace ChatHub.Tests.Integration;

/// <summary>A real Prometheus server (Debian's <c>prometheus</c>) scrapes a ChatHub server and answers for its series.</summary>
public sealed class PrometheusServerTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new();
    private TestServer _server = null!;
    private Process? _prometheus;

    public async Task InitializeAsync() => _server = await TestServer.StartAsync();

    public async Task DisposeAsync()
    {
        if (_prometheus is { HasExited: false } prometheus)
        {
            prometheus.Kill();
            await prometheus.WaitForExitAsync();
        }

        _prometheus?.Dispose();
        await _server.DisposeAsync();
        _dir.Dispose();
    }

    [Fact]
    public async Task Prometheus_scrapes_the_server_and_returns_its_message_count()
    {
        await using var ann = await _server.ConnectJsonAsync("name=ann&room=prom");
        await ann.ExpectAsync("welcome");
        await ann.ExpectAsync("joined");
        for (int i = 1; i <= 2; i++)
        {
            await ann.SendJsonAsync(new { type = "say", room = "prom", text = $"scraped {i}", @ref = $"p{i}" });
            await ann.WaitForAsync("ack");
        }

        int port = ServerProcess.FreePort();
        string config = _dir.File("prometheus.yml");
        await File.WriteAllTextAsync(config, $"""
            global:
              scrape_interval: 1s
              scrape_timeout: 1s
            scrape_configs:
              - job_name: chathub
                static_configs:
                  - targets: ["{_server.BaseAddress.Authority}"]
            """);
        _prometheus = Process.Start(new ProcessStartInfo("prometheus")
        {
            ArgumentList =
            {
                "--config.file=" + config,
                "--storage.tsdb.path=" + _dir.File("tsdb"),
                "--web.listen-address=127.0.0.1:" + port,
                "--log.level=warn",
            },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        })!;
        _prometheus.OutputDataReceived += (_, _) => { };
        _prometheus.ErrorDataReceived += (_, _) => { };
        _prometheus.BeginOutputReadLine();
        _prometheus.BeginErrorReadLine();

        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = TimeSpan.FromSeconds(5) };
        var result = await QueryUntilAsync(http, "chathub_messages_in_total{job=\"chathub\"}");
        Assert.Equal("2", (string?)result["value"]![1]);
        Assert.Equal("ChatHub", (string?)result["metric"]!["otel_scope_name"]);
        var up = await QueryUntilAsync(http, "up{job=\"chathub\"}");
        Assert.Equal("1", (string?)up["value"]![1]);
    }

    /// <summary>Asks Prometheus' HTTP API until the query has a sample (a scrape a second, so within a bound).</summary>
    private async Task<JsonNode> QueryUntilAsync(HttpClient http, string query)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        string last = "";
        while (DateTime.UtcNow < deadline)
        {
            Assert.False(_prometheus!.HasExited, $"prometheus exited with {(_prometheus.HasExited ? _prometheus.ExitCode : 0)}");
            try
            {
                last = await http.GetStringAsync("api/v1/query?query=" + Uri.EscapeDataString(query));
                var results = JsonNode.Parse(last)!["data"]!["result"]!.AsArray();
                if (results.Count > 0)
                {
                    return Assert.Single(results)!;
                }
            }
            catch (HttpRequestException)
            {
                // Prometheus is still starting.
            }

            await Task.Delay(200);
        }

        Assert.Fail($"Prometheus had no sample for {query} within the bound; last answer: {last}");
        return null!;
    }
}
