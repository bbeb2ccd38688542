using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace ChatHub.Server.Connections.Listening;

/// <summary>
/// The ports Kestrel serves with TLS (its <c>https://</c> addresses). A transport sees only an endpoint, not whether
/// Kestrel will run TLS on it, so the listener asks here before it reads a head as plaintext: a socket on a TLS port
/// always goes to Kestrel, and a plaintext <c>GET /ws</c> sent to it fails there as it fails on any TLS endpoint
/// instead of being upgraded in the clear. The addresses are complete once the application has started (ports bound
/// as 0 show the port the system chose); a socket that arrives before that waits for it.
/// </summary>
internal sealed class TlsPorts(IServiceProvider services, IHostApplicationLifetime lifetime)
{
    private Task<HashSet<int>>? _ports;

    public async ValueTask<bool> IsTlsAsync(int port)
    {
        var ports = Volatile.Read(ref _ports) ?? Interlocked.CompareExchange(ref _ports, ReadAsync(), null) ?? _ports!;
        return (await ports).Contains(port);
    }

    private async Task<HashSet<int>> ReadAsync()
    {
        if (!lifetime.ApplicationStarted.IsCancellationRequested)
        {
            var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            using (lifetime.ApplicationStarted.UnsafeRegister(static s => ((TaskCompletionSource)s!).TrySetResult(), started))
            {
                await started.Task;
            }
        }

        // IServer is resolved now, not injected: Kestrel's server itself depends on the transport that uses this.
        var addresses = services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        var ports = new HashSet<int>();
        foreach (string address in addresses)
        {
            if (address.StartsWith("https://", StringComparison.OrdinalIgnoreCase)
                && BindingAddressPort(address) is int port)
            {
                ports.Add(port);
            }
        }

        return ports;
    }

    /// <summary>The port of an address as Kestrel writes it (<c>https://[::]:443</c>, <c>https://127.0.0.1:5001</c>).</summary>
    private static int? BindingAddressPort(string address)
    {
        int colon = address.LastIndexOf(':');
        int end = address.IndexOf('/', colon + 1);
        var digits = end < 0 ? address.AsSpan(colon + 1) : address.AsSpan(colon + 1, end - colon - 1);
        return int.TryParse(digits, out int port) ? port : null;
    }
}
