namespace ChatHub.Server.Hosting;

/// <summary>Where the server is in its life: loading, serving, draining. Read by the endpoint and readiness.</summary>
internal sealed class ServerLifecycle
{
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _draining;

    /// <summary>Completes once the store is open and the rooms are loaded.</summary>
    public Task Started => _started.Task;

    public bool IsStarted => _started.Task.IsCompletedSuccessfully;

    public bool IsDraining => _draining;

    public void MarkStarted() => _started.TrySetResult();

    public void MarkDraining() => _draining = true;
}
