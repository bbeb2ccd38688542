using Microsoft.Extensions.Options;

namespace ChatHub.Server.Security;

/// <summary>
/// Which browser pages may open a WebSocket, from the <c>Origin</c> header. A browser always sends it on a
/// WebSocket upgrade, so checking it stops a foreign page from chatting in its visitors' names; programs send none
/// and are let through. Origins are compared whole (scheme, host, port), never as substrings.
/// </summary>
internal sealed class OriginPolicy
{
    private readonly List<Pattern> _allowed = [];
    private readonly bool _defaults;

    public OriginPolicy(IOptions<SecurityOptions> options)
    {
        _defaults = options.Value.AllowedOrigins.Length == 0;
        foreach (string entry in options.Value.AllowedOrigins)
        {
            _allowed.Add(Pattern.Parse(entry) ?? throw new OptionsValidationException(
                SecurityOptions.SectionName, typeof(SecurityOptions),
                [$"ChatHub:Security:AllowedOrigins: '{entry}' is not an origin (scheme://host[:port]) or a pattern scheme://*.host[:port]"]));
        }
    }

    /// <summary>True when every entry is an origin or a wildcard pattern.</summary>
    public static bool AreValid(IEnumerable<string> entries) => entries.All(e => Pattern.Parse(e) is not null);

    /// <summary>True when <paramref name="origin"/> (null: no header) may connect to a request for <paramref name="host"/>.</summary>
    public bool IsAllowed(string? origin, string? host)
    {
        if (origin is null)
        {
            return true;
        }

        if (!TryParseOrigin(origin, out var parsed))
        {
            return false; // "null" (sandboxed pages, file://) and anything malformed
        }

        if (_defaults)
        {
            return parsed.Host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
                || (host is not null && SameAuthority(parsed, host));
        }

        foreach (var pattern in _allowed)
        {
            if (pattern.Matches(parsed))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The origin's host and port against the request's <c>Host</c> header (default ports filled in from the origin's scheme).</summary>
    private static bool SameAuthority(Uri origin, string host) =>
        Uri.TryCreate(origin.Scheme + "://" + host, UriKind.Absolute, out var requested)
        && requested.Host.Equals(origin.Host, StringComparison.OrdinalIgnoreCase)
        && requested.Port == origin.Port
        && requested.AbsolutePath == "/";

    private static bool TryParseOrigin(string value, out Uri origin)
    {
        // An origin is scheme://host[:port] and nothing else: no path, query, user info or fragment.
        if (Uri.TryCreate(value, UriKind.Absolute, out origin!)
            && origin.Scheme is "http" or "https"
            && origin.UserInfo.Length == 0
            && origin.PathAndQuery == "/"
            && origin.Fragment.Length == 0
            && !value.EndsWith('/'))
        {
            return true;
        }

        return false;
    }

    /// <summary>An allowed origin, or a wildcard one whose host is <c>*.</c> followed by a domain.</summary>
    private sealed class Pattern(string scheme, string host, int port, bool wildcard)
    {
        public static Pattern? Parse(string entry)
        {
            string trimmed = entry.Trim();
            bool wildcard = false;
            int star = trimmed.IndexOf("://*.", StringComparison.Ordinal);
            if (star > 0)
            {
                wildcard = true;
                trimmed = trimmed.Remove(star + 3, 2);
            }

            if (trimmed.Contains('*') || !TryParseOrigin(trimmed.TrimEnd('/'), out var origin))
            {
                return null;
            }

            return new Pattern(origin.Scheme, origin.Host, origin.Port, wildcard);
        }

        public bool Matches(Uri origin) =>
            origin.Scheme == scheme
            && origin.Port == port
            && (wildcard
                ? origin.Host.Length > host.Length + 1
                  && origin.Host.EndsWith(host, StringComparison.OrdinalIgnoreCase)
                  && origin.Host[origin.Host.Length - host.Length - 1] == '.'
                : origin.Host.Equals(host, StringComparison.OrdinalIgnoreCase));
    }
}
