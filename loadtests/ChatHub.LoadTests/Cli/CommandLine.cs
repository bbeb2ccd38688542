using System.Globalization;
using System.Net;
using ChatHub.LoadTests.Probes;

namespace ChatHub.LoadTests.Cli;

/// <summary>
/// <c>--name value</c> / <c>--name=value</c> flags after a sub-command. Lists may repeat a flag or use
/// commas. Every flag must be consumed by the scenario, so a typo is an error instead of a silent default.
/// </summary>
internal sealed class CommandLine
{
    private readonly Dictionary<string, List<string>> _values = new(StringComparer.Ordinal);
    private readonly HashSet<string> _used = new(StringComparer.Ordinal);

    public CommandLine(IEnumerable<string> args)
    {
        string? pending = null;
        foreach (string arg in args)
        {
            if (arg.StartsWith("--", StringComparison.Ordinal))
            {
                if (pending is not null)
                {
                    Add(pending, "true");
                }
                string body = arg[2..];
                int eq = body.IndexOf('=');
                if (eq >= 0)
                {
                    Add(body[..eq], body[(eq + 1)..]);
                    pending = null;
                }
                else
                {
                    pending = body;
                }
            }
            else if (pending is not null)
            {
                Add(pending, arg);
                pending = null;
            }
            else
            {
                throw new UsageException($"unexpected argument '{arg}'");
            }
        }
        if (pending is not null)
        {
            Add(pending, "true");
        }
    }

    private void Add(string name, string value)
    {
        if (!_values.TryGetValue(name, out List<string>? list))
        {
            _values[name] = list = [];
        }
        list.Add(value);
    }

    public string? String(string name)
    {
        _used.Add(name);
        return _values.TryGetValue(name, out List<string>? list) ? list[^1] : null;
    }

    public string String(string name, string fallback) => String(name) ?? fallback;

    public IReadOnlyList<string> List(string name)
    {
        _used.Add(name);
        return _values.TryGetValue(name, out List<string>? list)
            ? list.SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList()
            : [];
    }

    public int Int(string name, int fallback) => String(name) is string s ? ParseInt(name, s) : fallback;

    public double Double(string name, double fallback) =>
        String(name) is string s
            ? double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) ? d : throw new UsageException($"--{name}: '{s}' is not a number")
            : fallback;

    public bool Flag(string name) => String(name) is string s && s != "false";

    public IReadOnlyList<int> Ints(string name, IReadOnlyList<int> fallback)
    {
        IReadOnlyList<string> raw = List(name);
        return raw.Count == 0 ? fallback : raw.Select(s => ParseInt(name, s)).ToList();
    }

    /// <summary><c>--url</c> (repeatable) paired by position with <c>--server-pid</c>; <c>--kind</c> says what they all speak.</summary>
    public IReadOnlyList<ServerTarget> Servers()
    {
        IReadOnlyList<string> urls = List("url");
        IReadOnlyList<int> pids = Ints("server-pid", []);
        TargetKind kind = TargetKinds.Parse(String("kind", "chathub"));
        if (urls.Count == 0)
        {
            urls = ["http://127.0.0.1:8080/"];
        }
        if (pids.Count > 0 && pids.Count != urls.Count)
        {
            throw new UsageException("give one --server-pid per --url (same order), or none");
        }
        return urls.Select((u, i) => new ServerTarget(new Uri(u.EndsWith('/') ? u : u + "/"), pids.Count > 0 ? pids[i] : null, kind)).ToList();
    }

    public IReadOnlyList<IPAddress> Addresses(string name) =>
        List(name).Select(s => IPAddress.TryParse(s, out IPAddress? a) ? a : throw new UsageException($"--{name}: '{s}' is not an IP address")).ToList();

    /// <summary>Throws when a flag was given that no option read.</summary>
    public void EnsureAllUsed()
    {
        string[] unknown = _values.Keys.Where(k => !_used.Contains(k)).ToArray();
        if (unknown.Length > 0)
        {
            throw new UsageException("unknown option(s): " + string.Join(", ", unknown.Select(k => "--" + k)));
        }
    }

    private static int ParseInt(string name, string s) =>
        int.TryParse(s.Replace("_", "", StringComparison.Ordinal), NumberStyles.Integer, CultureInfo.InvariantCulture, out int v)
            ? v
            : s.EndsWith('k') && int.TryParse(s[..^1], NumberStyles.Integer, CultureInfo.InvariantCulture, out int k)
                ? k * 1000
                : throw new UsageException($"--{name}: '{s}' is not an integer");
}
