using ChatHub.LoadTests.Cli;
using ChatHub.LoadTests.Reporting;
using ChatHub.LoadTests.Scenarios.Chat;
using ChatHub.LoadTests.Scenarios.Compare;
using ChatHub.LoadTests.Scenarios.Connections;
using ChatHub.LoadTests.Scenarios.Fanout;
using ChatHub.LoadTests.Scenarios.SlowConsumer;

namespace ChatHub.LoadTests;

internal static class Program
{
    private const string Usage = """
        ChatHub load tests: scenarios against a running ChatHub server (JSON format, /ws), or against the
        reference peers in loadtests/peers (--kind node-ws | signalr).

        usage: ChatHub.LoadTests <scenario> [--flag value ...]

        common flags:
          --url URL            server base URL (default http://127.0.0.1:8080/); connections may repeat it
          --server-pid PID     the server's process id, for RSS and CPU from /proc (one per --url); a peer without
                               /api/stats needs it: its connections are the TCP connections its process holds
          --kind KIND          what the server speaks: chathub (default), node-ws (JSON subset), signalr (hub at /hub)
          --out DIR            where <label>.json and <label>.md go (default loadtests/results)
          --label NAME         file name of the result (default: the scenario name)
          --note TEXT          recorded with the result (run-all.sh: the server commit measured)

        scenarios:
          connections   idle connections ramped in steps against server memory, with a PNG plot
                        --steps 0,1000,2000,5000,10000,15000,19000  --rooms 500  --workers N (0 = in-process)
                        --sources 127.0.0.2,127.0.0.3  --concurrency 100  --connect-timeout-seconds 15  --settle-seconds 20
                        --max-failure-ratio 0.01  --max-seconds 600  --plot FILE.png
                        then times closing them all and reads RSS 2 s later (--no-close-measure skips it)
          fanout        one sender, M members, K messages, window W
                        --members 200 --messages 5000 --warmup-messages 500 --window 32 --text-chars 64
          chat          N connections in R rooms, each sending at a fixed rate (open loop); several --url: spread over them
                        --connections 1000 --rooms 50 --rate 1 --seconds 30 --warmup-seconds 5 --drain-seconds 15
          slow-consumer one member stops reading in a busy room; expects a 1013 close (ChatHub only)
                        --members 10 --senders 2 --rate 200 --text-chars 4000 --slow-rcvbuf 65536
          compare       idle, fanout and chat against ChatHub (memory, SQLite), the Node ws and the SignalR peers,
                        each scenario on a freshly started server; a side-by-side table and a plot of all
                        --targets chathub-memory,chathub-sqlite,node-ws,signalr
                        --server-dll src/ChatHub.Server/bin/Release/net10.0/ChatHub.Server.dll (or a published
                        executable, e.g. the Native AOT server run-all.sh publishes)
                        --signalr-dll loadtests/peers/signalr/bin/Release/net10.0/SignalRPeer.dll
                        --node-peer loadtests/peers/node-ws (npm ci runs there if ws is missing)
                        --idle-steps 0,1000,2000,5000,10000 --idle-from 1000 --idle-rooms 100
                        --capacity-steps 0,19000,19500,19900 (optional: a second ramp to what one process holds)
                        --fanout-members 1000 --fanout-messages 2000 --fanout-warmup-messages 200 --fanout-window 50
                        --chat-connections 2000 --chat-rooms 200 --chat-rate 1 --chat-seconds 20 --chat-warmup-seconds 5
                        --plot docs/img/compare-memory.png
          replot        draw a connections result's plot again from its recorded steps, and point the result there
                        --result loadtests/results/connections-fd-limit.json --plot loadtests/results/connections-fd-limit.png
          report        put the latest results' Markdown into docs/benchmarks.md (refuses results measured
                        with local changes: every figure names its commit)
                        --results loadtests/results --doc docs/benchmarks.md --labels a,b,c

        Exit code: 0 pass, 1 a protocol violation, loss or failure, 2 bad usage.
        fanout and slow-consumer need a server that allows a fast sender, e.g.
          --ChatHub:Limits:MessagesPerSecond=1000000 --ChatHub:Limits:MessageBurst=1000000
        """;

    public static async Task<int> Main(string[] args)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
        {
            Console.WriteLine(Usage);
            return args.Length == 0 ? 2 : 0;
        }
        using var cts = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            cts.Cancel();
        };
        string command = "dotnet loadtests/ChatHub.LoadTests/bin/Release/net10.0/ChatHub.LoadTests.dll " + string.Join(' ', args.Select(ShellQuote));
        try
        {
            if (args[0] == "worker")
            {
                return await WorkerCommand.RunAsync(Console.In, Console.Out, cts.Token);
            }
            var cl = new CommandLine(args.Skip(1));
            string outDirectory = cl.String("out", Path.Combine("loadtests", "results"));
            string? note = cl.String("note");
            IScenarioResult result;
            switch (args[0])
            {
                case "connections":
                    var connections = ConnectionsOptions.From(cl, command, outDirectory);
                    cl.EnsureAllUsed();
                    result = await ConnectionsScenario.RunAsync(connections, cts.Token);
                    break;
                case "fanout":
                    var fanout = FanoutOptions.From(cl, command);
                    cl.EnsureAllUsed();
                    result = await FanoutScenario.RunAsync(fanout, cts.Token);
                    break;
                case "chat":
                    var chat = ChatOptions.From(cl, command);
                    cl.EnsureAllUsed();
                    result = await ChatScenario.RunAsync(chat, cts.Token);
                    break;
                case "slow-consumer":
                    var slow = SlowConsumerOptions.From(cl, command);
                    cl.EnsureAllUsed();
                    result = await SlowConsumerScenario.RunAsync(slow, cts.Token);
                    break;
                case "compare":
                    var compare = await CompareCommand.OptionsAsync(cl, command, outDirectory, cts.Token);
                    cl.EnsureAllUsed();
                    result = await CompareScenario.RunAsync(compare, cts.Token);
                    break;
                case "replot":
                    string resultJson = cl.String("result") ?? throw new UsageException("replot: --result FILE.json is required");
                    string replotPath = cl.String("plot") ?? throw new UsageException("replot: --plot FILE.png is required");
                    cl.EnsureAllUsed();
                    return ReplotCommand.Run(resultJson, replotPath, Console.Out);
                case "report":
                    string results = cl.String("results", Path.Combine("loadtests", "results"));
                    string doc = cl.String("doc", Path.Combine("docs", "benchmarks.md"));
                    IReadOnlyList<string> labels = cl.List("labels");
                    cl.EnsureAllUsed();
                    return ReportCommand.Run(results, doc, labels.Count > 0 ? labels : ReportCommand.StandardLabels, Console.Out);
                default:
                    throw new UsageException($"unknown scenario '{args[0]}'");
            }
            result.Run.Note = note;
            if (SourceRevision.Current() is { } revision)
            {
                result.Run.Commit = revision.Commit;
                result.Run.DirtyTree = revision.Dirty;
            }
            ResultWriter.Write(result, outDirectory, Console.Out);
            return result.Passed ? 0 : 1;
        }
        catch (UsageException ex)
        {
            Console.Error.WriteLine("error: " + ex.Message);
            Console.Error.WriteLine(Usage);
            return 2;
        }
    }

    /// <summary>Quotes an argument for the recorded command line so it can be pasted back into a shell.</summary>
    private static string ShellQuote(string arg) =>
        arg.Length > 0 && arg.All(c => char.IsAsciiLetterOrDigit(c) || "-_./:=,@%+".Contains(c))
            ? arg
            : "'" + arg.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}
