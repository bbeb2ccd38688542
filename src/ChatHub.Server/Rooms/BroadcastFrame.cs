using ChatHub.Server.Protocol;

namespace ChatHub.Server.Rooms;

/// <summary>
/// One room event on its way to many members: encoded at most once per wire format, on first need, and the
/// same bytes handed to every member of that format.
/// </summary>
internal struct BroadcastFrame(ServerEvent serverEvent)
{
    private byte[]? _json;
    private byte[]? _text;

    public byte[] For(WireFormat format) => format == WireFormat.Json
        ? _json ??= JsonFrameCodec.Encode(serverEvent)
        : _text ??= TextFrameCodec.EncodeLine(serverEvent);
}
