using System.Diagnostics;
using System.Text.Json;

namespace ChatHub.LoadTests.Scenarios.Connections;

/// <summary>
/// Spreads the connections over worker processes (this same program, sub-command <c>worker</c>), each
/// holding at most its share, so one run can drive more sockets than one process may open.
/// </summary>
internal sealed class WorkerConnectionPool : IConnectionPool
{
    private readonly List<WorkerProcess> _workers;
    private int _next;

    private WorkerConnectionPool(List<WorkerProcess> workers)
    {
        _workers = workers;
    }

    public int WorkerCount => _workers.Count;

    public static async Task<WorkerConnectionPool> StartAsync(ConnectionPlan plan, int workers, CancellationToken ct)
    {
        var started = new List<WorkerProcess>();
        try
        {
            for (int i = 0; i < workers; i++)
            {
                started.Add(WorkerProcess.Start());
            }
            var request = new WorkerRequest { Op = "plan", Plan = plan };
            await Task.WhenAll(started.Select(w => w.AskAsync(request, ct))).ConfigureAwait(false);
            return new WorkerConnectionPool(started);
        }
        catch
        {
            foreach (WorkerProcess worker in started)
            {
                await worker.DisposeAsync().ConfigureAwait(false);
            }
            throw;
        }
    }

    public async Task<BatchResult> AddAsync(int count, CancellationToken ct)
    {
        // Contiguous index ranges per worker; the plan maps each index to server, room and source address.
        var asks = new List<Task<BatchResult>>();
        for (int w = 0; w < _workers.Count; w++)
        {
            int share = count / _workers.Count + (w < count % _workers.Count ? 1 : 0);
            if (share == 0)
            {
                continue;
            }
            asks.Add(_workers[w].AskAsync(new WorkerRequest { Op = "add", First = _next, Count = share }, ct));
            _next += share;
        }
        return BatchResult.Sum(await Task.WhenAll(asks).ConfigureAwait(false));
    }

    public async ValueTask DisposeAsync()
    {
        await Task.WhenAll(_workers.Select(w => w.DisposeAsync().AsTask())).ConfigureAwait(false);
    }

    /// <summary>One child process and its request/reply pipe.</summary>
    private sealed class WorkerProcess : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly SemaphoreSlim _turn = new(1, 1);

        private WorkerProcess(Process process)
        {
            _process = process;
        }

        public static WorkerProcess Start()
        {
            string assembly = typeof(WorkerConnectionPool).Assembly.Location;
            var info = new ProcessStartInfo(Targets.DotnetHost.Path)
            {
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = false,
                UseShellExecute = false,
            };
            info.ArgumentList.Add(assembly);
            info.ArgumentList.Add("worker");
            // A worker lives for one ramp, so dynamic PGO's instrumented tier and second compile never pay off:
            // with it, compiling was a third of a worker's CPU during the ramp's last step, and that CPU is taken
            // from the server on a shared box. Without it a worker spent about a third less per connect.
            info.Environment["DOTNET_TieredPGO"] = "0";
            return new WorkerProcess(Process.Start(info) ?? throw new InvalidOperationException("could not start a worker"));
        }

        public async Task<BatchResult> AskAsync(WorkerRequest request, CancellationToken ct)
        {
            await _turn.WaitAsync(ct).ConfigureAwait(false);
            try
            {
                await _process.StandardInput.WriteLineAsync(JsonSerializer.Serialize(request, WorkerJsonContext.Default.WorkerRequest).AsMemory(), ct).ConfigureAwait(false);
                await _process.StandardInput.FlushAsync(ct).ConfigureAwait(false);
                string line = await _process.StandardOutput.ReadLineAsync(ct).ConfigureAwait(false)
                    ?? throw new InvalidOperationException($"worker {_process.Id} exited (code {(_process.HasExited ? _process.ExitCode : -1)})");
                return JsonSerializer.Deserialize(line, WorkerJsonContext.Default.BatchResult) ?? new BatchResult();
            }
            finally
            {
                _turn.Release();
            }
        }

        public async ValueTask DisposeAsync()
        {
            try
            {
                if (!_process.HasExited)
                {
                    using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                    await AskAsync(new WorkerRequest { Op = "exit" }, cts.Token).ConfigureAwait(false);
                    await _process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or IOException or InvalidOperationException)
            {
                // A worker that does not answer is killed: it is our own child, by its id.
                _process.Kill(entireProcessTree: true);
            }
            finally
            {
                _process.Dispose();
            }
        }
    }
}
