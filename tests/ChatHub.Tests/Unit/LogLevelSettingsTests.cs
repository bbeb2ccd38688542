using ChatHub.Server.Observability;
using Microsoft.Extensions.Configuration;
using Serilog;
using Serilog.Events;

namespace ChatHub.Tests.Unit;

/// <summary>Serilog's <c>Serilog:MinimumLevel</c> section as the server reads it (without Serilog.Settings.Configuration).</summary>
public sealed class LogLevelSettingsTests
{
    [Fact]
    public void Default_and_overrides_set_the_levels_per_category()
    {
        using var logger = Build(new()
        {
            ["Serilog:MinimumLevel:Default"] = "Warning",
            ["Serilog:MinimumLevel:Override:Microsoft.AspNetCore"] = "error",
            ["Serilog:MinimumLevel:Override:ChatHub.Server.Rooms"] = "Debug",
        });

        Assert.False(logger.IsEnabled(LogEventLevel.Information));
        Assert.True(logger.IsEnabled(LogEventLevel.Warning));
        Assert.False(logger.ForContext(Serilog.Core.Constants.SourceContextPropertyName, "Microsoft.AspNetCore.Hosting").IsEnabled(LogEventLevel.Warning));
        Assert.True(logger.ForContext(Serilog.Core.Constants.SourceContextPropertyName, "ChatHub.Server.Rooms.RoomActor").IsEnabled(LogEventLevel.Debug));
    }

    [Fact]
    public void A_plain_value_is_the_default_level()
    {
        using var logger = Build(new() { ["Serilog:MinimumLevel"] = "Verbose" });
        Assert.True(logger.IsEnabled(LogEventLevel.Verbose));
    }

    [Theory]
    [InlineData("Serilog:MinimumLevel:Default", "Loud")]
    [InlineData("Serilog:MinimumLevel:Override:Microsoft", "42")]
    public void A_value_that_is_not_a_level_names_its_key(string key, string value)
    {
        var error = Assert.Throws<InvalidOperationException>(() => Build(new() { [key] = value }));
        Assert.Contains(key, error.Message);
    }

    private static Serilog.Core.Logger Build(Dictionary<string, string?> settings) =>
        new LoggerConfiguration().ApplyMinimumLevels(new ConfigurationBuilder().AddInMemoryCollection(settings).Build()).CreateLogger();
}
