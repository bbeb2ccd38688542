using ChatHub.Server.Protocol;

namespace ChatHub.Server.Rooms;

/// <summary>
/// A room's most recent committed messages in a ring. Seqs in a room are contiguous, so a seq maps straight
/// to a slot: every lookup is arithmetic, not a search. The ring starts small and doubles up to the window,
/// so a quiet room does not hold a window-sized array (8 KB for the default 1,000).
/// </summary>
internal sealed class MessageWindow(int capacity)
{
    private const int InitialSlots = 8;

    private readonly int _capacity = Math.Max(1, capacity);
    private ChatMessage[] _ring = [];
    private int _start;

    public int Count { get; private set; }

    /// <summary>Seq of the oldest kept message; 0 when empty.</summary>
    public long OldestSeq => Count == 0 ? 0 : this[0].Seq;

    public long NewestSeq => Count == 0 ? 0 : this[Count - 1].Seq;

    private ChatMessage this[int index] => _ring[(_start + index) % _ring.Length];

    public void Add(ChatMessage message)
    {
        if (Count == _ring.Length && _ring.Length < _capacity)
        {
            Grow();
        }

        if (Count == _ring.Length)
        {
            _ring[_start] = message;
            _start = (_start + 1) % _ring.Length;
        }
        else
        {
            _ring[(_start + Count) % _ring.Length] = message;
            Count++;
        }
    }

    /// <summary>Every kept message with seq &gt; <paramref name="seq"/>, oldest first.</summary>
    public ChatMessage[] After(long seq)
    {
        int first = Count == 0 ? 0 : (int)Math.Clamp(seq + 1 - OldestSeq, 0, Count);
        return Slice(first, Count);
    }

    /// <summary>The newest <paramref name="limit"/> kept messages with seq &lt; <paramref name="before"/>, oldest first.</summary>
    public ChatMessage[] Before(long before, int limit)
    {
        int end = Count == 0 ? 0 : (int)Math.Clamp(before - OldestSeq, 0, Count);
        return Slice(Math.Max(0, end - limit), end);
    }

    public ChatMessage[] Newest(int limit) => Slice(Math.Max(0, Count - limit), Count);

    public IEnumerable<ChatMessage> All() => Enumerable.Range(0, Count).Select(i => this[i]);

    private void Grow()
    {
        var larger = new ChatMessage[Math.Min(_capacity, Math.Max(InitialSlots, _ring.Length * 2))];
        for (int i = 0; i < Count; i++)
        {
            larger[i] = this[i];
        }

        _ring = larger;
        _start = 0;
    }

    private ChatMessage[] Slice(int from, int to)
    {
        if (to <= from)
        {
            return [];
        }

        var result = new ChatMessage[to - from];
        for (int i = from; i < to; i++)
        {
            result[i - from] = this[i];
        }

        return result;
    }
}
