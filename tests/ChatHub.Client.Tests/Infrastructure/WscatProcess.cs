using System.Diagnostics;
using System.Text;
using System.Threading.Channels;

namespace ChatHub.Client.Tests.Infrastructure;

/// <summary>
/// The real `wscat` (npm) as a child process with redirected stdin/stdout: the
/// test types lines and reads the server's lines as a person at a terminal would.
/// wscat only prints like that on a terminal: with a plain pipe as stdout it
/// drops the "&lt; " prefixes and its "Connected"/"Disconnected (code: …)" lines.
/// So it runs under util-linux `script`, which gives it a pseudo-terminal; the
/// terminal's escape codes, "&gt; " prompts and the echo of typed lines are
/// removed here, and only what wscat received or reported reaches the reader.
/// </summary>
public sealed partial class WscatProcess : IAsyncDisposable
{
    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);

    private readonly Process _process;
    private readonly Channel<string> _lines = Channel.CreateUnbounded<string>();
    private readonly StringBuilder _stderr = new();
    private readonly List<string> _transcript = [];

    private WscatProcess(Process process)
    {
        _process = process;
    }

    /// <summary>The session as the person saw it: typed lines ("&gt; line"), received lines ("&lt; line") and wscat's own notices.</summary>
    public IReadOnlyList<string> Transcript
    {
        get
        {
            lock (_transcript) return _transcript.ToList();
        }
    }

    public static WscatProcess Start(Uri url)
    {
        string wscat = FindOnPath("wscat")
            ?? throw new InvalidOperationException("wscat is not on PATH: install it with `npm install -g wscat`.");
        string script = FindOnPath("script")
            ?? throw new InvalidOperationException("`script` (util-linux) is not on PATH.");
        var start = new ProcessStartInfo(script)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
        };
        // -q: no "Script started" banner, -f: flush at once, -e: exit with wscat's exit code.
        start.ArgumentList.Add("-qfec");
        start.ArgumentList.Add($"{wscat} --no-color --connect '{url}'");
        start.ArgumentList.Add("/dev/null");
        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var session = new WscatProcess(process);
        process.OutputDataReceived += (_, e) => session.OnOutput(e.Data);
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null) lock (session._stderr) session._stderr.AppendLine(e.Data);
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return session;
    }

    /// <summary>Types a line and presses Enter.</summary>
    public async Task TypeAsync(string line)
    {
        lock (_transcript) _transcript.Add("> " + line);
        await _process.StandardInput.WriteLineAsync(line);
        await _process.StandardInput.FlushAsync();
    }

    /// <summary>Reads lines until one satisfies <paramref name="predicate"/>; fails after the timeout.</summary>
    public async Task<string> ReadLineAsync(Func<string, bool> predicate, TimeSpan? timeout = null)
    {
        using var cancel = new CancellationTokenSource(timeout ?? DefaultTimeout);
        try
        {
            while (true)
            {
                string line = await _lines.Reader.ReadAsync(cancel.Token);
                if (predicate(line)) return line;
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ChannelClosedException)
        {
            string stderr;
            lock (_stderr) stderr = _stderr.ToString();
            throw new TimeoutException($"wscat did not print the expected line. Transcript:\n{string.Join("\n", Transcript)}\nstderr:\n{stderr}");
        }
    }

    /// <summary>Reads until a line contains <paramref name="text"/>.</summary>
    public Task<string> ReadLineContainingAsync(string text, TimeSpan? timeout = null) =>
        ReadLineAsync(line => line.Contains(text, StringComparison.Ordinal), timeout);

    /// <summary>Waits for wscat to exit by itself and returns its exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan? timeout = null)
    {
        using var cancel = new CancellationTokenSource(timeout ?? DefaultTimeout);
        await _process.WaitForExitAsync(cancel.Token);
        return _process.ExitCode;
    }

    public bool HasExited => _process.HasExited;

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }

    private void OnOutput(string? data)
    {
        if (data is null)
        {
            _lines.Writer.TryComplete();
            return;
        }
        string line = TerminalEscapes().Replace(data, "").Replace("\r", "");
        // Prompts ("> ") are printed before every line; strip them all.
        while (line.StartsWith("> ", StringComparison.Ordinal)) line = line[2..];
        line = line.TrimEnd();
        string shown;
        if (line.StartsWith("< ", StringComparison.Ordinal)) shown = line[2..];
        else if (line.StartsWith("Connected", StringComparison.Ordinal) || line.StartsWith("Disconnected", StringComparison.Ordinal)) shown = line;
        else return; // the terminal's echo of a typed line, or an empty prompt
        lock (_transcript) _transcript.Add(line);
        _lines.Writer.TryWrite(shown);
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"\x1b\[[0-9;?]*[A-Za-z]")]
    private static partial System.Text.RegularExpressions.Regex TerminalEscapes();

    private static string? FindOnPath(string name)
    {
        foreach (string directory in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator))
        {
            if (directory.Length == 0) continue;
            string candidate = Path.Combine(directory, name);
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }
}
