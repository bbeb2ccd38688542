using System.Net.Sockets;
using System.Text;

namespace ChatHub.Tests.Infrastructure;

/// <summary>Sends raw bytes as a request head and reads what the server answers, over a plain TCP socket.</summary>
public static class RawHttp
{
    /// <summary>What came back: the status code, <c>closed</c> (no answer before the server hung up) or <c>silent</c>.</summary>
    public sealed record Answer(string Status, bool ThroughHttpPipeline, string Head);

    public static async Task<Answer> SendAsync(Uri baseAddress, byte[] request, TimeSpan wait)
    {
        using var tcp = new TcpClient { NoDelay = true };
        await tcp.ConnectAsync(baseAddress.Host, baseAddress.Port);
        var stream = tcp.GetStream();
        using var cts = new CancellationTokenSource(wait);
        try
        {
            await stream.WriteAsync(request, cts.Token);
        }
        catch (IOException)
        {
            // the server may refuse and hang up while a large head is still being written; read what it said
        }

        var received = new MemoryStream();
        var buffer = new byte[4096];
        try
        {
            while (received.Length < 64 * 1024 && received.ToArray().AsSpan().IndexOf("\r\n\r\n"u8) < 0)
            {
                int n = await stream.ReadAsync(buffer, cts.Token);
                if (n == 0)
                {
                    break;
                }

                received.Write(buffer, 0, n);
            }
        }
        catch (OperationCanceledException)
        {
            if (received.Length == 0)
            {
                return new Answer("silent", false, "");
            }
        }
        catch (IOException)
        {
            // reset after (or instead of) an answer
        }

        string head = Encoding.Latin1.GetString(received.ToArray());
        if (head.Length == 0)
        {
            return new Answer("closed", false, "");
        }

        string[] statusLine = head.Split("\r\n")[0].Split(' ');
        string status = statusLine.Length > 1 ? statusLine[1] : "garbled";
        return new Answer(status, head.Contains("\r\nDate:", StringComparison.Ordinal), head);
    }
}
