using ChatHub.LoadTests.Reporting;
using ChatHub.LoadTests.Scenarios.Fanout;

namespace ChatHub.LoadTests.Tests;

public sealed class ReportRevisionTests
{
    [Fact]
    public void A_result_names_its_commit_and_one_measured_with_local_changes_stays_out_of_the_doc()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"chathub-revision-{Guid.NewGuid():N}");
        try
        {
            var clean = new FanoutResult { Run = RunInfo.Create("fanout", "clean", "cmd") };
            clean.Run.Commit = "abc1234";
            var dirty = new FanoutResult { Run = RunInfo.Create("fanout", "dirty", "cmd") };
            dirty.Run.Commit = "abc1234";
            dirty.Run.DirtyTree = true;
            ResultWriter.Write(clean, dir, TextWriter.Null);
            ResultWriter.Write(dirty, dir, TextWriter.Null);
            Assert.Contains("Measured at commit `abc1234`.", clean.ToMarkdown());
            Assert.Contains("local changes", dirty.ToMarkdown());

            string doc = Path.Combine(dir, "benchmarks.md");
            const string before = "# B\n\n<!-- results:begin -->\n<!-- results:end -->\n";
            File.WriteAllText(doc, before);
            var console = new StringWriter();
            Assert.Equal(1, ReportCommand.Run(dir, doc, ["clean", "dirty"], console));
            Assert.Equal(before, File.ReadAllText(doc));
            Assert.Contains("dirty measured with local changes", console.ToString());

            Assert.Equal(0, ReportCommand.Run(dir, doc, ["clean"], TextWriter.Null));
            Assert.Contains("Measured at commit `abc1234`.", File.ReadAllText(doc));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void The_work_tree_the_tests_run_in_has_a_revision()
    {
        SourceRevision? revision = SourceRevision.Current();
        Assert.NotNull(revision);
        Assert.Matches("^[0-9a-f]{7,}$", revision.Commit);
    }
}
