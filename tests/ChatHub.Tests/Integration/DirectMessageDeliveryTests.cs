using System.Net.WebSockets;
using ChatHub.Tests.Infrastructure;

namespace ChatHub.Tests.Integration;

/// <summary>A DM is acked only when it was queued to its recipient; one that was not can be sent again.</summary>
public sealed class DirectMessageDeliveryTests
{
    [Fact]
    public async Task A_dm_the_recipient_could_not_take_gets_an_error_and_its_ref_stays_usable()
    {
        await using var server = await TestServer.StartAsync(
            "Limits:OutboxCapacity=16", "Limits:MessagesPerSecond=100000", "Limits:MessageBurst=100000",
            "Limits:MaxTextBytes=60000", "Connections:CloseTimeout=00:01:00");
        await using var ann = await server.ConnectJsonAsync("name=ann");
        await ann.ExpectAsync("welcome");
        var bob = await server.ConnectJsonAsync("name=bob");
        await bob.ExpectAsync("welcome");

        // Bob reads nothing: once the kernel's buffers are full his outbox fills and he is closed with 1013,
        // while his name is still his until his connection ends.
        string text = new('x', 60000);
        string? refused = await FirstRefusedRefAsync(ann, text);
        Assert.NotNull(refused);

        Assert.Equal((WebSocketCloseStatus)1013, await bob.ReceiveCloseAsync());
        await bob.DisposeAsync();

        await using var bobAgain = await server.ConnectJsonAsync("name=bob");
        Assert.Equal("bob", await bobAgain.ReadWelcomeNameAsync());
        await ann.SendJsonAsync(new { type = "dm", to = "bob", text = "again", @ref = refused });
        var dm = await bobAgain.ExpectAsync("dm");
        Assert.Equal("again", (string?)dm["text"]);
        Assert.Equal(refused, (string?)(await ann.WaitForAsync("ack"))["ref"]);
    }

    private static async Task<string?> FirstRefusedRefAsync(WsClient ann, string text)
    {
        for (int i = 0; i < 2000; i++)
        {
            string reference = $"e{i}";
            await ann.SendJsonAsync(new { type = "dm", to = "bob", text, @ref = reference });
            while (true)
            {
                var frame = await ann.NextAsync();
                string type = (string)frame["type"]!;
                if (type == "ack" && (string?)frame["ref"] == reference)
                {
                    break;
                }

                if (type == "error" && (string?)frame["ref"] == reference)
                {
                    Assert.Equal("no_such_user", (string?)frame["code"]);
                    return reference;
                }
            }
        }

        return null;
    }
}
