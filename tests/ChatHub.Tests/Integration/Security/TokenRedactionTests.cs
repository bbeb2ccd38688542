using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.WebSockets;
using System.Text.RegularExpressions;
using ChatHub.Tests.Infrastructure;

namespace ChatHub.Tests.Integration.Security;

/// <summary>
/// The real server process, logging everything (ASP.NET Core's request lines included, which carry the query
/// string): a token sent as query parameter or Bearer header never appears on its console nor in <c>/metrics</c>.
/// </summary>
public sealed partial class TokenRedactionTests : IDisposable
{
    private readonly TestTokens _tokens = new();
    private readonly TempDirectory _dir = new();

    public void Dispose()
    {
        _tokens.Dispose();
        _dir.Dispose();
    }

    [Theory]
    [InlineData("text")]
    [InlineData("json")]
    public async Task Tokens_never_reach_the_log_or_metrics(string logFormat)
    {
        var output = new ConcurrentQueue<string>();
        var info = new ProcessStartInfo("dotnet")
        {
            ArgumentList =
            {
                Path.Combine(AppContext.BaseDirectory, "ChatHub.Server.dll"), "--urls", "http://127.0.0.1:0",
                "--ChatHub:Storage:SqlitePath", _dir.File("redact.db"), "--ChatHub:Logging:Format", logFormat,
                "--ChatHub:Connections:AcceptOnTransport=false", // the HTTP path, whose request lines show the query
                "--ChatHub:Security:Token:SigningKey", TestTokens.Secret,
                "--Serilog:MinimumLevel:Default=Debug", "--Serilog:MinimumLevel:Override:Microsoft.AspNetCore=Debug",
            },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(info)!;
        var listening = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            output.Enqueue(e.Data);
            if (ListeningLine().Match(e.Data) is { Success: true } m) listening.TrySetResult(new Uri(m.Groups[1].Value));
        };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) output.Enqueue(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            var baseAddress = await listening.Task.WaitAsync(TimeSpan.FromSeconds(60));
            string good = _tokens.Hs256("ann"), forged = _tokens.Hs256("ann", secret: "not-the-servers-secret-but-32-bytes-long"), header = _tokens.Hs256("bob");
            await using (var ann = await WsClient.ConnectAsync(new Uri($"ws://{baseAddress.Authority}/ws?format=json&token={good}")))
            {
                await ann.ExpectAsync("welcome");
                await ann.SendJsonAsync(new { type = "auth", token = good });
                await ann.ExpectAsync("authed");
            }

            await Assert.ThrowsAsync<WebSocketException>(() => WsClient.ConnectAsync(new Uri($"ws://{baseAddress.Authority}/ws?token={forged}")));
            var bob = new ClientWebSocket();
            bob.Options.SetRequestHeader("Authorization", "Bearer " + header);
            await bob.ConnectAsync(new Uri($"ws://{baseAddress.Authority}/ws"), CancellationToken.None);
            bob.Abort();
            bob.Dispose();

            using var http = new HttpClient { BaseAddress = baseAddress };
            string metrics = await http.GetStringAsync("/metrics");
            Assert.Contains("chathub_handshake_refusals_total{otel_scope_name=\"ChatHub\",reason=\"token\"}", metrics); // the forged one was counted, by reason only

            // The request lines were logged (so redaction had something to do) ...
            Assert.Contains(output, line => line.Contains("token=" + "[redacted]", StringComparison.Ordinal));
            foreach (string secret in new[] { good, forged, header })
            {
                string signature = secret.Split('.')[2];
                Assert.DoesNotContain(output, line => line.Contains(signature, StringComparison.Ordinal));
                Assert.DoesNotContain(signature, metrics);
            }
        }
        finally
        {
            if (!process.HasExited) process.Kill();
        }
    }

    [GeneratedRegex(@"Now listening on: (?:\\"")?(http://[0-9.:]+)")]
    private static partial Regex ListeningLine();
}
