namespace ChatHub.LoadTests.Scenarios.Common;

/// <summary>Thread-safe list of protocol violations; keeps the first 50 texts and counts the rest.</summary>
internal sealed class ViolationLog
{
    private const int Kept = 50;
    private readonly List<string> _texts = [];
    private int _count;

    public int Count => Volatile.Read(ref _count);

    public void Add(string text)
    {
        if (Interlocked.Increment(ref _count) <= Kept)
        {
            lock (_texts)
            {
                _texts.Add(text);
            }
        }
    }

    public List<string> ToList()
    {
        lock (_texts)
        {
            var list = new List<string>(_texts);
            if (_count > Kept)
            {
                list.Add($"... and {_count - Kept} more");
            }
            return list;
        }
    }
}
