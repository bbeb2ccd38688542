using System.Net;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Options;

namespace ChatHub.Server.Security;

/// <summary>
/// The client's address for per-address limits. Behind a reverse proxy every connection comes from the proxy, so
/// <c>X-Forwarded-For</c> names the client, but anyone can send that header: it is believed only when the peer is a
/// configured proxy (<see cref="ForwardedHeadersOptions.KnownProxies"/> / <c>KnownIPNetworks</c>, the same options
/// object the HTTP pipeline's forwarded-headers middleware uses), walking back at most <c>ForwardLimit</c> hops.
/// </summary>
internal sealed class ClientAddress(IOptions<ForwardedHeadersOptions> forwarded)
{
    /// <summary>
    /// The transport path: the socket's peer, or the address a trusted proxy forwarded. (The HTTP path gets the same
    /// answer from the middleware in <c>HttpContext.Connection.RemoteIpAddress</c>.)
    /// </summary>
    public IPAddress? Resolve(IPAddress? peer, string? forwardedFor)
    {
        var options = forwarded.Value;
        if (peer is null || string.IsNullOrEmpty(forwardedFor))
        {
            return peer;
        }

        string[] hops = forwardedFor.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var current = peer;
        int limit = options.ForwardLimit ?? int.MaxValue;
        for (int i = hops.Length - 1, walked = 0; i >= 0 && walked < limit && IsTrusted(current, options); i--, walked++)
        {
            if (!IPEndPoint.TryParse(hops[i], out var hop))
            {
                break; // garbage from the proxy's own client: keep the last address we could trust
            }

            current = hop.Address;
        }

        return current;
    }

    private static bool IsTrusted(IPAddress address, ForwardedHeadersOptions options)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        foreach (var proxy in options.KnownProxies)
        {
            if (proxy.Equals(address))
            {
                return true;
            }
        }

        foreach (var network in options.KnownIPNetworks)
        {
            if (network.Contains(address))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Fills ASP.NET Core's options from <c>ChatHub:Security:Proxy</c>; nothing is trusted by default (not even loopback).</summary>
    public static void Configure(ForwardedHeadersOptions options, ProxyOptions proxy)
    {
        // The middleware believes everyone when both lists are empty: with no proxy configured it must do nothing.
        options.ForwardedHeaders = proxy.KnownProxies.Length + proxy.KnownNetworks.Length == 0 ? ForwardedHeaders.None : ForwardedHeaders.XForwardedFor;
        options.ForwardLimit = proxy.ForwardLimit;
        options.KnownProxies.Clear();
        options.KnownIPNetworks.Clear();
        foreach (string address in proxy.KnownProxies)
        {
            options.KnownProxies.Add(IPAddress.Parse(address));
        }

        foreach (string network in proxy.KnownNetworks)
        {
            options.KnownIPNetworks.Add(System.Net.IPNetwork.Parse(network));
        }
    }
}
