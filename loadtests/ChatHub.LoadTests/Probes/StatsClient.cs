using System.Globalization;
using System.Net.Http.Json;
using ChatHub.LoadTests.Protocol;

namespace ChatHub.LoadTests.Probes;

/// <summary>Reads <c>/api/stats</c> and the slow-consumer counter in <c>/metrics</c>.</summary>
internal sealed class StatsClient : IDisposable
{
    private readonly HttpClient _http = new(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(10) };

    public async Task<ServerStats?> GetStatsAsync(Uri baseUrl, CancellationToken ct)
    {
        try
        {
            return await _http.GetFromJsonAsync(ChatHubUris.Stats(baseUrl), ProtocolJsonContext.Default.ServerStats, ct).ConfigureAwait(false);
        }
        catch (HttpRequestException)
        {
            return null;
        }
        catch (TaskCanceledException) when (!ct.IsCancellationRequested)
        {
            return null;
        }
    }

    /// <summary>
    /// Sum of every sample in <c>/metrics</c> whose metric name mentions "slow" (the protocol names the
    /// counter, not its exact spelling); null when there is no such metric or no endpoint.
    /// </summary>
    public async Task<double?> GetSlowConsumerClosesAsync(Uri baseUrl, CancellationToken ct)
    {
        string text;
        try
        {
            text = await _http.GetStringAsync(ChatHubUris.Metrics(baseUrl), ct).ConfigureAwait(false);
        }
        catch (HttpRequestException)
        {
            return null;
        }
        return SumMetric(text, "slow");
    }

    internal static double? SumMetric(string prometheusText, string nameFragment)
    {
        double? sum = null;
        foreach (string raw in prometheusText.Split('\n'))
        {
            string line = raw.Trim();
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }
            int nameEnd = line.IndexOfAny(['{', ' ']);
            if (nameEnd <= 0 || !line.AsSpan(0, nameEnd).Contains(nameFragment, StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }
            // Prometheus sample: name{labels} value [timestamp]
            int valueStart = line[nameEnd] == '{' ? line.IndexOf('}', nameEnd) + 1 : nameEnd;
            string[] rest = line[valueStart..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (rest.Length > 0 && double.TryParse(rest[0], NumberStyles.Float, CultureInfo.InvariantCulture, out double value))
            {
                sum = (sum ?? 0) + value;
            }
        }
        return sum;
    }

    public void Dispose() => _http.Dispose();
}
