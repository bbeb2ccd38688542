using ChatHub.Server.Protocol;
using ChatHub.Server.Rooms;

namespace ChatHub.Tests.Unit;

public sealed class MessageWindowTests
{
    private static MessageWindow Filled(int capacity, int from, int to)
    {
        var window = new MessageWindow(capacity);
        for (int seq = from; seq <= to; seq++)
        {
            window.Add(new ChatMessage("r", seq, "a", $"m{seq}", DateTimeOffset.UnixEpoch, null));
        }

        return window;
    }

    private static long[] Seqs(IEnumerable<ChatMessage> messages) => messages.Select(m => m.Seq).ToArray();

    [Fact]
    public void Keeps_the_newest_capacity_messages()
    {
        var window = Filled(5, 1, 12);
        Assert.Equal(5, window.Count);
        Assert.Equal(8, window.OldestSeq);
        Assert.Equal(12, window.NewestSeq);
        Assert.Equal([8L, 9, 10, 11, 12], Seqs(window.All()));
    }

    [Fact]
    public void Grows_as_messages_come_and_keeps_order_across_growth_and_wrap()
    {
        var window = Filled(1000, 1, 20);
        Assert.Equal(Enumerable.Range(1, 20).Select(i => (long)i), Seqs(window.All()));
        for (int seq = 21; seq <= 1500; seq++)
        {
            window.Add(new ChatMessage("r", seq, "a", "", DateTimeOffset.UnixEpoch, null));
        }

        Assert.Equal(1000, window.Count);
        Assert.Equal(501, window.OldestSeq);
        Assert.Equal(Enumerable.Range(501, 1000).Select(i => (long)i), Seqs(window.All()));
        Assert.Equal([1499L, 1500], Seqs(window.After(1498)));
    }

    [Fact]
    public void After_returns_the_messages_past_a_seq()
    {
        var window = Filled(5, 1, 12);
        Assert.Equal([11L, 12], Seqs(window.After(10)));
        Assert.Equal([8L, 9, 10, 11, 12], Seqs(window.After(2)));
        Assert.Empty(window.After(12));
        Assert.Empty(window.After(99));
    }

    [Fact]
    public void Before_returns_the_newest_limit_messages_below_a_seq()
    {
        var window = Filled(10, 1, 10);
        Assert.Equal([5L, 6, 7], Seqs(window.Before(8, 3)));
        Assert.Equal([1L, 2], Seqs(window.Before(3, 50)));
        Assert.Empty(window.Before(1, 5));
        Assert.Equal([8L, 9, 10], Seqs(window.Before(long.MaxValue, 3)));
    }

    [Fact]
    public void Newest_and_empty()
    {
        Assert.Equal([9L, 10], Seqs(Filled(10, 1, 10).Newest(2)));
        var empty = new MessageWindow(3);
        Assert.Empty(empty.Newest(5));
        Assert.Empty(empty.After(0));
        Assert.Equal(0, empty.OldestSeq);
    }
}
