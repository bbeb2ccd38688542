using ChatHub.Server.Observability;

namespace ChatHub.Tests.Unit;

public sealed class TokenRedactorTests
{
    private const string Jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbm4ifQ.c2lnbmF0dXJl";

    [Theory]
    [InlineData("?format=json&token=abc.def.ghi&room=x", "?format=json&token=[redacted]&room=x")]
    [InlineData("?token=abc", "?token=[redacted]")]
    [InlineData("?TOKEN=abc&name=ann", "?TOKEN=[redacted]&name=ann")]
    [InlineData("Authorization: Bearer abc.def", "Authorization: Bearer [redacted]")]
    [InlineData("got " + Jwt + " here", "got [redacted] here")]
    public void Tokens_are_replaced_and_the_rest_kept(string text, string expected) =>
        Assert.Equal(expected, TokenRedactor.Redact(text));

    [Theory]
    [InlineData("?format=json&name=ann&room=lobby")]
    [InlineData("mytoken=1")] // not a query parameter named token
    [InlineData("")]
    public void Text_without_tokens_is_returned_as_is(string text) =>
        Assert.Same(text, TokenRedactor.Redact(text));
}
