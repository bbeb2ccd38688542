using System.Text.Json;

namespace ChatHub.LoadTests.Scenarios.Connections;

/// <summary>
/// The hidden <c>worker</c> sub-command: holds a share of the connections for a coordinator that
/// cannot hold them all itself (20,000 open files per process). Driven over stdin/stdout, one JSON line each way.
/// </summary>
internal static class WorkerCommand
{
    public static async Task<int> RunAsync(TextReader input, TextWriter output, CancellationToken ct)
    {
        LocalConnectionPool? pool = null;
        try
        {
            while (await input.ReadLineAsync(ct).ConfigureAwait(false) is string line)
            {
                WorkerRequest request = JsonSerializer.Deserialize(line, WorkerJsonContext.Default.WorkerRequest)
                    ?? throw new InvalidDataException("empty worker request");
                BatchResult reply;
                switch (request.Op)
                {
                    case "plan":
                        pool = new LocalConnectionPool(request.Plan ?? throw new InvalidDataException("plan missing"));
                        reply = new BatchResult();
                        break;
                    case "add":
                        reply = await (pool ?? throw new InvalidOperationException("add before plan")).AddRangeAsync(request.First, request.Count, ct).ConfigureAwait(false);
                        break;
                    case "exit":
                        await WriteAsync(output, new BatchResult()).ConfigureAwait(false);
                        return 0;
                    default:
                        throw new InvalidDataException("unknown worker op " + request.Op);
                }
                await WriteAsync(output, reply).ConfigureAwait(false);
            }
            return 0;
        }
        finally
        {
            if (pool is not null)
            {
                await pool.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private static async Task WriteAsync(TextWriter output, BatchResult reply)
    {
        await output.WriteLineAsync(JsonSerializer.Serialize(reply, WorkerJsonContext.Default.BatchResult)).ConfigureAwait(false);
        await output.FlushAsync().ConfigureAwait(false);
    }
}
