using System.Diagnostics;
using ChatHub.Tests.Infrastructure;

namespace ChatHub.Tests.Deployment;

/// <summary>
/// The server as it ships: <c>dotnet publish</c> of the server project (Native AOT, one native executable) into a
/// folder of its own, once for the test class that uses it.
/// </summary>
public sealed class NativeAotBinary : IAsyncLifetime
{
    private readonly TempDirectory _dir = new();

    /// <summary>The published executable.</summary>
    public string Executable => _dir.File("ChatHub.Server");

    public async Task InitializeAsync()
    {
        var info = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { "publish", RepositoryRoot.File("src", "ChatHub.Server", "ChatHub.Server.csproj"), "-c", "Release", "-o", _dir.Path, "--nologo" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        // Native code generation of the whole server takes minutes on a busy machine.
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(15));
        await process.WaitForExitAsync(timeout.Token);
        if (process.ExitCode != 0 || !File.Exists(Executable))
        {
            throw new InvalidOperationException($"dotnet publish failed ({process.ExitCode}):\n{await stdout}\n{await stderr}");
        }

        // One native file: no ChatHub or framework assembly beside it to load (only the SQLite library and the client).
        if (Directory.GetFiles(_dir.Path, "*.dll").Length != 0)
        {
            throw new InvalidOperationException("the publish folder holds assemblies: it is not a Native AOT publish");
        }
    }

    public Task DisposeAsync()
    {
        _dir.Dispose();
        return Task.CompletedTask;
    }
}
