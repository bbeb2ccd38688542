namespace ChatHub.LoadTests.Scenarios.Common;

/// <summary>A countdown that can be awaited: completes when <see cref="Signal"/> was called N times.</summary>
internal sealed class AsyncCountdown
{
    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _remaining;

    public AsyncCountdown(int count)
    {
        _remaining = count;
        if (count <= 0)
        {
            _done.TrySetResult();
        }
    }

    public int Remaining => Math.Max(0, Volatile.Read(ref _remaining));

    public Task Task => _done.Task;

    public void Signal()
    {
        if (Interlocked.Decrement(ref _remaining) == 0)
        {
            _done.TrySetResult();
        }
    }
}
