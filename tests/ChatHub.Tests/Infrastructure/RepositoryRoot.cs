namespace ChatHub.Tests.Infrastructure;

/// <summary>
/// The checkout the tests were built from: the first folder above the test binaries that holds <c>ChatHub.sln</c>.
/// Tests of documents and deployment files read them from there, so they check the files a reader sees.
/// </summary>
public static class RepositoryRoot
{
    public static string Path { get; } = Find();

    public static string File(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (System.IO.File.Exists(System.IO.Path.Combine(dir.FullName, "ChatHub.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"no ChatHub.sln above {AppContext.BaseDirectory}");
    }
}
