using System.Text.Json;
using System.Text.Json.Serialization;

namespace ChatHub.Server.Protocol;

/// <summary>
/// A stored message on the wire is a <c>message</c> frame: <c>{type, room, seq, from, text, ts}</c>, in live
/// delivery and inside <c>joined.history</c> / <c>history.messages</c> alike. The sender's <c>ref</c> stays private.
/// </summary>
public sealed class ChatMessageJsonConverter : JsonConverter<ChatMessage>
{
    public override ChatMessage Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        throw new NotSupportedException("The server never reads messages from JSON.");

    public override void Write(Utf8JsonWriter writer, ChatMessage value, JsonSerializerOptions options) => WriteMessage(writer, value);

    public static void WriteMessage(Utf8JsonWriter writer, ChatMessage value)
    {
        writer.WriteStartObject();
        writer.WriteString("type"u8, "message"u8);
        writer.WriteString("room"u8, value.Room);
        writer.WriteNumber("seq"u8, value.Seq);
        writer.WriteString("from"u8, value.From);
        writer.WriteString("text"u8, value.Text);
        writer.WritePropertyName("ts"u8);
        WireTimestampConverter.WriteValue(writer, value.Timestamp);
        writer.WriteEndObject();
    }
}
