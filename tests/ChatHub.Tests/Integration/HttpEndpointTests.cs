using System.Net;
using System.Text.Json;
using ChatHub.Tests.Infrastructure;

namespace ChatHub.Tests.Integration;

/// <summary>The HTTP surface beside the WebSocket.</summary>
public sealed class HttpEndpointTests : IAsyncLifetime
{
    private TestServer _server = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        _server = await TestServer.StartAsync();
        _http = new HttpClient { BaseAddress = _server.BaseAddress };
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task Healthz_is_200()
    {
        Assert.Equal(HttpStatusCode.OK, (await _http.GetAsync("/healthz")).StatusCode);
    }

    [Fact]
    public async Task Root_serves_the_browser_client()
    {
        var response = await _http.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Stats_and_rooms_and_metrics_count_what_happened()
    {
        await using var ann = await _server.ConnectJsonAsync("name=ann&room=stats");
        await ann.ExpectAsync("welcome");
        await ann.ExpectAsync("joined");
        await ann.SendJsonAsync(new { type = "say", room = "stats", text = "one" });
        await ann.WaitForAsync("ack");

        using var stats = JsonDocument.Parse(await _http.GetStringAsync("/api/stats"));
        var root = stats.RootElement;
        Assert.Equal(1, root.GetProperty("connections").GetInt64());
        Assert.Equal(1, root.GetProperty("rooms").GetInt64());
        Assert.Equal(1, root.GetProperty("messagesIn").GetInt64());
        Assert.Equal(1, root.GetProperty("messagesOut").GetInt64());
        Assert.True(root.GetProperty("workingSetBytes").GetInt64() > 0);
        Assert.True(root.GetProperty("gcHeapBytes").GetInt64() > 0);
        Assert.True(root.GetProperty("uptimeSeconds").GetDouble() > 0);

        using var rooms = JsonDocument.Parse(await _http.GetStringAsync("/api/rooms"));
        var only = Assert.Single(rooms.RootElement.EnumerateArray());
        Assert.Equal("stats", only.GetProperty("room").GetString());
        Assert.Equal(1, only.GetProperty("members").GetInt32());

        string metrics = await _http.GetStringAsync("/metrics");
        foreach (string name in new[]
        {
            "chathub_connections{", "chathub_rooms{", "chathub_messages_in_total{", "chathub_messages_out_total{",
            "chathub_messages_dropped_total{", "chathub_slow_consumer_closes_total{", "chathub_memory_working_set_bytes{",
            "chathub_memory_gc_heap_bytes{",
        })
        {
            Assert.Contains(name, metrics);
        }

        Assert.Contains("chathub_messages_in_total{otel_scope_name=\"ChatHub\"} 1", metrics);
    }
}
