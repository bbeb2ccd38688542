using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace ChatHub.Client.Tests.Infrastructure;

/// <summary>
/// Debian's nginx as a child process in front of in-process ChatHub nodes, configured with the repository's own
/// <c>deploy/nginx/chathub.conf</c> (the file compose.yaml uses), its placeholders filled in with this test's
/// ports. Everything nginx writes (pid, temp files) stays in a temporary prefix, so it needs no root.
/// </summary>
public sealed class NginxProxy : IAsyncDisposable
{
    public const string NginxPath = "/usr/sbin/nginx";

    /// <summary>Copied beside the test binaries from deploy/nginx/ (see the .csproj).</summary>
    private static readonly string Template = Path.Combine(AppContext.BaseDirectory, "deploy", "nginx", "chathub.conf");

    private readonly Process _process;
    private readonly DirectoryInfo _prefix;
    private readonly StringBuilder _log = new();

    private NginxProxy(Process process, DirectoryInfo prefix, int port)
    {
        _process = process;
        _prefix = prefix;
        BaseUri = new Uri($"http://127.0.0.1:{port}/");
    }

    /// <summary>http://127.0.0.1:PORT/ of nginx.</summary>
    public Uri BaseUri { get; }

    /// <summary>What nginx logged (errors and notices), for failure messages.</summary>
    public string Log
    {
        get
        {
            lock (_log) return _log.ToString();
        }
    }

    public Uri WebSocketUri(string query) =>
        new UriBuilder(BaseUri) { Scheme = "ws", Path = "/ws", Query = query }.Uri;

    /// <summary>Starts nginx with the two upstream nodes of the configuration; returns once it listens.</summary>
    public static async Task<NginxProxy> StartAsync(Uri node1, Uri node2)
    {
        if (!File.Exists(NginxPath))
        {
            throw new InvalidOperationException($"{NginxPath} is missing: install it with `apt-get install -y nginx`.");
        }

        var prefix = Directory.CreateTempSubdirectory("chathub-nginx-");
        if (!OperatingSystem.IsWindows())
        {
            // nginx's workers drop to an unprivileged user when the master runs as root: let them in.
            File.SetUnixFileMode(prefix.FullName, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        }
        prefix.CreateSubdirectory("tmp"); // nginx creates the temp folders, not their parent
        int port = FreePort();
        string rendered = Render(File.ReadAllText(Template), new Dictionary<string, string>
        {
            ["CHATHUB_LISTEN"] = $"127.0.0.1:{port}",
            ["CHATHUB_NODE_1"] = node1.Authority,
            ["CHATHUB_NODE_2"] = node2.Authority,
        });
        File.WriteAllText(Path.Combine(prefix.FullName, "chathub.conf"), rendered);
        File.WriteAllText(Path.Combine(prefix.FullName, "nginx.conf"), MainConfig);

        var info = new ProcessStartInfo(NginxPath)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (string arg in new[] { "-p", prefix.FullName + "/", "-c", "nginx.conf", "-e", "stderr", "-g", "daemon off;" })
        {
            info.ArgumentList.Add(arg);
        }

        var process = Process.Start(info)!;
        var proxy = new NginxProxy(process, prefix, port);
        var listening = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (proxy._log) proxy._log.AppendLine(e.Data);
            // The master opens its listening sockets before it starts the workers, and says so at `notice`.
            if (e.Data.Contains("start worker process", StringComparison.Ordinal)) listening.TrySetResult();
        };
        process.EnableRaisingEvents = true;
        process.Exited += (_, _) =>
        {
            process.WaitForExit(); // until its stderr is read to the end, so the message below is complete
            listening.TrySetException(new InvalidOperationException($"nginx exited ({process.ExitCode}): {proxy.Log}"));
        };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        await listening.Task.WaitAsync(TimeSpan.FromSeconds(15));
        return proxy;
    }

    /// <summary>Fills in <c>${NAME}</c> the way envsubst with an explicit list of names does; nothing else changes.</summary>
    public static string Render(string template, IReadOnlyDictionary<string, string> values)
    {
        string rendered = values.Aggregate(template, (text, pair) => text.Replace("${" + pair.Key + "}", pair.Value, StringComparison.Ordinal));
        if (rendered.Contains("${", StringComparison.Ordinal))
        {
            throw new InvalidOperationException("deploy/nginx/chathub.conf has a placeholder the tests do not fill in");
        }

        return rendered;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        await _process.WaitForExitAsync();
        _process.Dispose();
        _prefix.Delete(recursive: true);
    }

    /// <summary>
    /// The main context the official image gives the file: an <c>http</c> block that includes it. Paths are
    /// relative to the prefix so nothing is written outside it.
    /// </summary>
    private const string MainConfig = """
        worker_processes 1;
        pid nginx.pid;
        error_log stderr notice;
        events {
            worker_connections 1024;
        }
        http {
            access_log off;
            client_body_temp_path tmp/body;
            proxy_temp_path tmp/proxy;
            fastcgi_temp_path tmp/fastcgi;
            uwsgi_temp_path tmp/uwsgi;
            scgi_temp_path tmp/scgi;
            include chathub.conf;
        }
        """;

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
