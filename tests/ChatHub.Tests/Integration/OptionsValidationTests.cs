using ChatHub.Tests.Infrastructure;

namespace ChatHub.Tests.Integration;

/// <summary>Out-of-range values in the nested ChatHub sections stop the server at start, naming the key.</summary>
public sealed class OptionsValidationTests
{
    [Theory]
    [InlineData("Limits:MaxTextBytes=0", "MaxTextBytes")]
    [InlineData("Limits:OutboxCapacity=1", "OutboxCapacity")]
    [InlineData("Storage:HistoryWindow=0", "HistoryWindow")]
    [InlineData("Connections:TcpKeepAliveProbes=0", "TcpKeepAliveProbes")]
    public async Task A_value_out_of_range_stops_the_server(string setting, string key)
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => TestServer.StartAsync(setting));
        Assert.Contains(key, error.Message);
    }
}
