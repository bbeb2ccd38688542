using ChatHub.Server.Protocol;

namespace ChatHub.Tests.Unit;

public sealed class IdentifiersTests
{
    [Theory]
    [InlineData("a", true)]
    [InlineData("Ann_B-2.x", true)]
    [InlineData("abcdefghijklmnopqrstuvwxyz012345", true)]   // 32
    [InlineData("abcdefghijklmnopqrstuvwxyz0123456", false)] // 33
    [InlineData("", false)]
    [InlineData(null, false)]
    [InlineData("a b", false)]
    [InlineData("é", false)]
    [InlineData("a/b", false)]
    public void Names(string? name, bool valid) => Assert.Equal(valid, Identifiers.IsValidName(name));

    [Fact]
    public void Rooms_may_be_twice_as_long_as_names()
    {
        Assert.True(Identifiers.IsValidRoom(new string('r', 64)));
        Assert.False(Identifiers.IsValidRoom(new string('r', 65)));
        Assert.False(Identifiers.IsValidRoom("bad room"));
    }
}
