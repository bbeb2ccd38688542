using System.Text.RegularExpressions;
using ChatHub.Tests.Infrastructure;

namespace ChatHub.Tests.Docs;

/// <summary>
/// Whoever clones the repository must be able to follow every link of its documents: a relative link that
/// points at a missing file or heading, or out of the repository, is a broken promise to that reader.
/// </summary>
public sealed partial class DocumentLinksTests
{
    public static TheoryData<string> Documents() => new(DocumentPaths());

    private static IEnumerable<string> DocumentPaths() =>
        Directory.EnumerateFiles(RepositoryRoot.File("docs"), "*.md", SearchOption.AllDirectories)
            .Select(file => Path.GetRelativePath(RepositoryRoot.Path, file))
            .Order(StringComparer.Ordinal)
            .Prepend("README.md");

    [Theory]
    [MemberData(nameof(Documents))]
    public void Relative_links_lead_to_files_inside_the_repository(string document)
    {
        string path = RepositoryRoot.File(document);
        string root = Path.GetFullPath(RepositoryRoot.Path) + Path.DirectorySeparatorChar;
        var broken = new List<string>();
        foreach (Match link in MarkdownLink().Matches(File.ReadAllText(path)))
        {
            string target = link.Groups["target"].Value;
            string anchor = link.Groups["anchor"].Value;
            if (target.Contains("://", StringComparison.Ordinal) || target.StartsWith("mailto:", StringComparison.Ordinal))
            {
                continue;
            }

            string resolved = target.Length == 0 ? path : Path.GetFullPath(Path.Combine(Path.GetDirectoryName(path)!, Uri.UnescapeDataString(target)));
            if (!resolved.StartsWith(root, StringComparison.Ordinal) || !(File.Exists(resolved) || Directory.Exists(resolved)))
            {
                broken.Add(target + anchor);
            }
            else if (anchor.Length > 1 && resolved.EndsWith(".md", StringComparison.Ordinal) && !HeadingAnchors(resolved).Contains(anchor[1..]))
            {
                broken.Add(target + anchor);
            }
        }

        Assert.Empty(broken);
    }

    /// <summary>The anchors a Markdown renderer gives the headings: lower case, punctuation dropped, spaces as hyphens.</summary>
    private static HashSet<string> HeadingAnchors(string markdownFile) =>
        Heading().Matches(File.ReadAllText(markdownFile))
            .Select(m => new string(m.Groups["title"].Value.Trim().ToLowerInvariant()
                .Where(c => char.IsLetterOrDigit(c) || c is ' ' or '-' or '_').ToArray()).Replace(' ', '-'))
            .ToHashSet(StringComparer.Ordinal);

    [Fact]
    public void No_document_refers_to_a_protocol_file_outside_the_repository()
    {
        foreach (string document in DocumentPaths())
        {
            string text = File.ReadAllText(RepositoryRoot.File(document));
            Assert.DoesNotContain("shared/PROTOCOL.md", text, StringComparison.Ordinal);
            Assert.DoesNotContain("`PROTOCOL.md`", text, StringComparison.Ordinal);
        }
    }

    /// <summary><c>[text](target#anchor)</c> or <c>![alt](target)</c>; either part may be missing.</summary>
    [GeneratedRegex(@"\]\((?<target>[^)#\s]*)(?<anchor>#[^)\s]*)?\)")]
    private static partial Regex MarkdownLink();

    [GeneratedRegex(@"^#{1,6} (?<title>.+)$", RegexOptions.Multiline)]
    private static partial Regex Heading();
}
