using System.Diagnostics;
using ChatHub.Tests.Infrastructure;

namespace ChatHub.Tests.Integration.Security;

/// <summary><c>dotnet ChatHub.Server.dll token ...</c> as docs/security.md shows it: a real process whose token a real server accepts.</summary>
public sealed class TokenCommandTests
{
    [Fact]
    public async Task The_token_command_issues_a_token_the_server_accepts_with_its_rooms()
    {
        var (exit, token, _) = await RunAsync("token", "--sub", "ann", "--rooms", "lobby,dev", "--ttl", "00:10:00",
            $"--ChatHub:Security:Token:SigningKey={TestTokens.Secret}", $"--ChatHub:Security:Token:Audience={TestTokens.Audience}");
        Assert.Equal(0, exit);

        await using var server = await TestServer.StartAsync($"Security:Token:SigningKey={TestTokens.Secret}", $"Security:Token:Audience={TestTokens.Audience}");
        await using var ann = await server.ConnectJsonAsync($"token={token.Trim()}");
        Assert.Equal("ann", await ann.ReadWelcomeNameAsync());
        await ann.SendJsonAsync(new { type = "join", room = "dev" });
        Assert.Equal("dev", (string?)(await ann.ExpectAsync("joined"))["room"]);
        await ann.SendJsonAsync(new { type = "join", room = "ops" });
        Assert.Equal("forbidden", (string?)(await ann.ExpectAsync("error"))["code"]);
    }

    [Fact]
    public async Task Without_a_signing_key_or_a_sub_it_fails_with_a_message()
    {
        var (exit, output, error) = await RunAsync("token", "--sub", "ann");
        Assert.Equal(2, exit);
        Assert.Equal("", output);
        Assert.Contains("SigningKey", error);

        (exit, _, error) = await RunAsync("token", $"--ChatHub:Security:Token:SigningKey={TestTokens.Secret}");
        Assert.Equal(2, exit);
        Assert.Contains("--sub", error);
    }

    private static async Task<(int Exit, string Output, string Error)> RunAsync(params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "ChatHub.Server.dll"));
        foreach (string arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(cts.Token);
        return (process.ExitCode, await output, await error);
    }
}
