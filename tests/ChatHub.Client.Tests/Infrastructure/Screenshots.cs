using Microsoft.Playwright;

namespace ChatHub.Client.Tests.Infrastructure;

/// <summary>
/// Saves PNGs of the main screens into the test output folder (screenshots/),
/// where a person can look at them after a run; the nicest are copied by hand
/// into docs/screenshots/.
/// </summary>
public static class Screenshots
{
    public static string Directory { get; } = Path.Combine(AppContext.BaseDirectory, "screenshots");

    public static async Task<string> SaveAsync(IPage page, string name)
    {
        System.IO.Directory.CreateDirectory(Directory);
        string path = Path.Combine(Directory, $"{name}.png");
        await page.ScreenshotAsync(new() { Path = path, FullPage = false });
        return path;
    }
}
