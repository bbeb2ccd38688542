using System.Reflection;
using System.Text.RegularExpressions;
using ChatHub.Server.Protocol;
using ChatHub.Tests.Infrastructure;

namespace ChatHub.Tests.Docs;

/// <summary>
/// docs/protocol.md is the contract clients are written against: its tables of error and close codes must list
/// exactly the codes the server can send, no more and no fewer.
/// </summary>
public sealed partial class ProtocolDocumentTests
{
    private static readonly string Document = File.ReadAllText(RepositoryRoot.File("docs", "protocol.md"));

    [Fact]
    public void Error_code_table_lists_exactly_the_server_error_codes()
    {
        var documented = TableKeys(Section("Error codes"), QuotedKeyRow());
        var defined = PublicConstants(typeof(ErrorCodes)).Select(value => (string)value).ToList();

        Assert.NotEmpty(defined);
        Assert.Equal(documented.Distinct().Count(), documented.Count);
        Assert.Equal(defined.Order(StringComparer.Ordinal), documented.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Close_code_table_lists_exactly_the_server_close_codes()
    {
        var documented = TableKeys(Section("Close codes"), CloseCodeRow());
        var defined = PublicConstants(typeof(CloseCodes)).Select(value => Convert.ToInt32(value).ToString()).ToList();

        Assert.NotEmpty(defined);
        Assert.Equal(documented.Distinct().Count(), documented.Count);
        Assert.Equal(defined.Order(StringComparer.Ordinal), documented.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Request_table_lists_exactly_the_json_types_the_server_reads()
    {
        var documented = TableKeys(Section("Requests", level: 3), QuotedKeyRow());
        var read = Enum.GetValues<RequestKind>()
            .Select(kind => kind.ToString().ToLowerInvariant())
            .Where(type => RequestKinds.FromJsonType(type) != RequestKind.Unknown)
            .ToList();

        Assert.Equal(read.Order(StringComparer.Ordinal), documented.Order(StringComparer.Ordinal));
    }

    /// <summary>The text from a <c>## Title</c> heading to the next heading of the same or a higher level.</summary>
    private static string Section(string title, int level = 2)
    {
        string hashes = new('#', level);
        var match = Regex.Match(
            Document,
            $@"^{hashes} {Regex.Escape(title)}[ \t]*$(?<body>.*?)(?=^#{{1,{level}}} |\z)",
            RegexOptions.Multiline | RegexOptions.Singleline);
        Assert.True(match.Success, $"docs/protocol.md has no section \"{hashes} {title}\"");
        return match.Groups["body"].Value;
    }

    private static List<string> TableKeys(string section, Regex row) =>
        row.Matches(section).Select(m => m.Groups["key"].Value).ToList();

    private static IEnumerable<object> PublicConstants(Type type) =>
        type.GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(field => field.IsLiteral)
            .Select(field => field.GetRawConstantValue()!);

    /// <summary>A table row whose first cell is one word in backticks: <c>| `bad_request` | …</c>.</summary>
    [GeneratedRegex(@"^\| `(?<key>[a-z_]+)` \|", RegexOptions.Multiline)]
    private static partial Regex QuotedKeyRow();

    /// <summary>A table row whose first cell is a four-digit close code: <c>| 1000 | …</c>.</summary>
    [GeneratedRegex(@"^\| (?<key>\d{4}) \|", RegexOptions.Multiline)]
    private static partial Regex CloseCodeRow();
}
