using System.Text;
using System.Text.Json.Nodes;
using ChatHub.Server.Protocol;

namespace ChatHub.Tests.Unit;

public sealed class JsonFrameCodecTests
{
    private static DecodeResult Decode(string json) => JsonFrameCodec.Decode(Encoding.UTF8.GetBytes(json));

    [Fact]
    public void Decodes_every_field_of_a_request()
    {
        var request = Decode("""{"type":"history","room":"r","before":9,"limit":3,"ref":"x","name":"n","to":"t","text":"hi","since":4}""").Request!;
        Assert.Equal(RequestKind.History, request.Kind);
        Assert.Equal("r", request.Room);
        Assert.Equal(9, request.Before);
        Assert.Equal(3, request.Limit);
        Assert.Equal("x", request.Ref);
        Assert.Equal("n", request.Name);
        Assert.Equal("t", request.To);
        Assert.Equal("hi", request.Text);
        Assert.Equal(4, request.Since);
    }

    [Theory]
    [InlineData("nick", RequestKind.Nick)]
    [InlineData("join", RequestKind.Join)]
    [InlineData("leave", RequestKind.Leave)]
    [InlineData("say", RequestKind.Say)]
    [InlineData("dm", RequestKind.Dm)]
    [InlineData("who", RequestKind.Who)]
    [InlineData("rooms", RequestKind.Rooms)]
    [InlineData("history", RequestKind.History)]
    [InlineData("ping", RequestKind.Ping)]
    public void Maps_each_protocol_type(string type, RequestKind kind) =>
        Assert.Equal(kind, Decode($$"""{"type":"{{type}}"}""").Request!.Kind);

    [Theory]
    [InlineData("help")] // text-format only
    [InlineData("quit")]
    [InlineData("SAY")]  // types are case-sensitive
    public void Other_types_are_unknown_type(string type) =>
        Assert.Equal(ErrorCodes.UnknownType, Decode($$"""{"type":"{{type}}","ref":"q"}""").Error!.Code);

    [Theory]
    [InlineData("")]
    [InlineData("{")]
    [InlineData("42")]
    [InlineData("{\"type\":\"say\",\"since\":1.5}")]
    [InlineData("{\"type\":\"say\",\"limit\":\"3\"}")]
    [InlineData("{\"type\":null}")]
    public void Malformed_input_is_bad_request(string json) =>
        Assert.Equal(ErrorCodes.BadRequest, Decode(json).Error!.Code);

    [Fact]
    public void Encodes_a_message_with_the_wire_field_names_and_millisecond_utc_timestamp()
    {
        var message = new ChatMessage("lobby", 7, "ann", "hi \"there\"", new DateTimeOffset(2026, 11, 24, 10, 0, 0, 123, TimeSpan.FromHours(2)), "secret-ref");
        var json = JsonNode.Parse(JsonFrameCodec.Encode(new MessageEvent(message)))!.AsObject();
        Assert.Equal(["type", "room", "seq", "from", "text", "ts"], json.Select(p => p.Key));
        Assert.Equal("message", (string?)json["type"]);
        Assert.Equal(7, (long)json["seq"]!);
        Assert.Equal("hi \"there\"", (string?)json["text"]);
        Assert.Equal("2026-11-24T08:00:00.123Z", (string?)json["ts"]);
    }

    [Fact]
    public void Encodes_type_first_and_nulls_where_the_protocol_keeps_them()
    {
        var ack = JsonNode.Parse(JsonFrameCodec.Encode(new AckEvent(null, null, null)))!.AsObject();
        Assert.Equal(["type", "ref", "room", "seq"], ack.Select(p => p.Key));
        Assert.All(new[] { "ref", "room", "seq" }, key => Assert.Null(ack[key]));

        var error = JsonNode.Parse(JsonFrameCodec.Encode(new ErrorEvent("bad_request", "no", null)))!.AsObject();
        Assert.Equal(["type", "code", "message"], error.Select(p => p.Key)); // ref only when the request had one

        var join = JsonNode.Parse(JsonFrameCodec.Encode(new PresenceEvent("r", "ann", PresenceEvent.Join, null, 3)))!.AsObject();
        Assert.Equal(["type", "room", "name", "event"], join.Select(p => p.Key)); // no "to", no member count
    }
}
