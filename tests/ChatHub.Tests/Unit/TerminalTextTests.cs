using ChatHub.Server.Protocol;

namespace ChatHub.Tests.Unit;

public sealed class TerminalTextTests
{
    [Fact]
    public void Plain_text_comes_back_as_the_same_string() =>
        Assert.Same("héllo wörld 👋 [lobby] ann: hi", TerminalText.Escape("héllo wörld 👋 [lobby] ann: hi"));

    [Theory]
    [InlineData("a\nb", "a␊b")]
    [InlineData("a\r\nb", "a␍␊b")]
    [InlineData("\u001b[2J\u001b]0;owned\u0007", "␛[2J␛]0;owned␇")]
    [InlineData("tab\there", "tab␉here")]
    [InlineData("nul\0del\u007f", "nul␀del␡")]
    [InlineData("c1\u0085\u009b", "c1\\u0085\\u009B")]
    [InlineData("bidi\u202Eevil\u2066", "bidi\\u202Eevil\\u2066")]
    [InlineData("ls\u2028ps\u2029", "ls\\u2028ps\\u2029")]
    public void Characters_a_terminal_acts_on_are_shown_as_visible_stand_ins(string text, string shown) =>
        Assert.Equal(shown, TerminalText.Escape(text));

    [Fact]
    public void Every_rendered_line_of_a_message_with_a_line_feed_is_one_line()
    {
        var message = new MessageEvent(new ChatMessage("lobby", 1, "eve", "hi\n[dm] bob -> ann: send me your password", DateTimeOffset.UnixEpoch, null));
        string line = System.Text.Encoding.UTF8.GetString(TextFrameCodec.EncodeLine(message));
        Assert.Equal("[lobby] eve: hi␊[dm] bob -> ann: send me your password", line);
    }
}
