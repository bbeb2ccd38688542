using ChatHub.Tests.Infrastructure;

namespace ChatHub.Tests.Integration;

/// <summary>The count the default cap starts from is the process's own, live (run alone: other tests open files too).</summary>
[Collection(RunsAlone.Name)]
public sealed class OpenFileCountTests
{
    [Fact]
    public void Open_files_are_counted_from_the_process_itself()
    {
        int before = ChatHub.Server.Hosting.OpenFileLimit.CountOpen()!.Value;
        using var dir = new TempDirectory();
        var files = Enumerable.Range(0, 5).Select(i => File.Create(dir.File($"f{i}"))).ToList();
        int during = ChatHub.Server.Hosting.OpenFileLimit.CountOpen()!.Value;
        files.ForEach(f => f.Dispose());

        // Background work of the runtime may open or close a descriptor meanwhile: about five, not exactly.
        Assert.InRange(during - before, 3, 50);
        Assert.InRange(before, 3, 20_000);
    }
}
