using System.Text.Json;

namespace ChatHub.LoadTests.Protocol;

/// <summary>Turns frames into bytes and back with the source-generated context.</summary>
internal static class FrameCodec
{
    public static ServerFrame? Parse(ReadOnlySpan<byte> utf8)
    {
        try
        {
            return JsonSerializer.Deserialize(utf8, ProtocolJsonContext.Default.ServerFrame);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public static byte[] Say(string room, string text, string? reference = null) =>
        JsonSerializer.SerializeToUtf8Bytes(new SayFrame { Room = room, Text = text, Ref = reference }, ProtocolJsonContext.Default.SayFrame);
}
