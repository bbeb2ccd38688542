using System.Buffers.Binary;

namespace ChatHub.Server.Connections.Sockets;

/// <summary>RFC 6455 5.2 opcodes.</summary>
internal enum FrameOpcode : byte
{
    Continuation = 0x0,
    Text = 0x1,
    Binary = 0x2,
    Close = 0x8,
    Ping = 0x9,
    Pong = 0xA,
}

/// <summary>
/// The header of the frame being received, and what is left of its payload. <see cref="Processed"/> once the whole
/// payload has been handed out; between frames the last data frame's header stays, so a continuation knows what it
/// continues.
/// </summary>
internal struct FrameHeader
{
    /// <summary>The longest header a client sends: 2 bytes, an 8-byte length, a 4-byte mask.</summary>
    public const int MaxClientLength = 14;

    /// <summary>Control frames carry at most this much (RFC 6455 5.5).</summary>
    public const int MaxControlPayload = 125;

    public FrameOpcode Opcode;
    public bool Fin;
    public bool Processed;
    public long Remaining;
    public uint Mask;

    public readonly bool EndOfMessage => Fin && Processed && Remaining == 0;

    /// <summary>How many header bytes a client frame starting with <paramref name="second"/> (its 2nd byte) has, mask included.</summary>
    public static int ClientLength(byte second) => (second & 0x7F) switch
    {
        126 => 2 + 2 + 4,
        127 => 2 + 8 + 4,
        _ => 2 + 4,
    };

    /// <summary>
    /// Parses a whole client header (<see cref="ClientLength"/> bytes) against the last data frame's header; returns
    /// null, or why the frame breaks the protocol (answered with 1002). <paramref name="consumed"/> is its length.
    /// </summary>
    public static string? TryParse(ReadOnlySpan<byte> bytes, in FrameHeader last, out FrameHeader header, out int consumed)
    {
        header = default;
        byte first = bytes[0];
        byte second = bytes[1];
        header.Fin = (first & 0x80) != 0;
        header.Opcode = (FrameOpcode)(first & 0x0F);
        long length = second & 0x7F;
        consumed = 2;
        if (length == 126)
        {
            length = BinaryPrimitives.ReadUInt16BigEndian(bytes[2..]);
            consumed += 2;
        }
        else if (length == 127)
        {
            length = BinaryPrimitives.ReadInt64BigEndian(bytes[2..]);
            consumed += 8;
        }

        // No extension is negotiated, so every reserved bit is an error (RSV1 would be permessage-deflate).
        if ((first & 0x70) != 0)
        {
            return "The WebSocket received a frame with one or more reserved bits set.";
        }

        if (length < 0)
        {
            return "The WebSocket received a frame with an invalid payload length (its most significant bit set).";
        }

        // RFC 6455 5.1: a server must close the connection on an unmasked client frame (.NET's own accepts one).
        if ((second & 0x80) == 0)
        {
            return "The WebSocket received an unmasked frame from a client.";
        }

        header.Mask = BinaryPrimitives.ReadUInt32LittleEndian(bytes[consumed..]);
        consumed += 4;
        header.Remaining = length;
        switch (header.Opcode)
        {
            case FrameOpcode.Continuation:
                if (last.Fin)
                {
                    return "The WebSocket received a continuation frame from a final frame.";
                }

                break;
            case FrameOpcode.Text:
            case FrameOpcode.Binary:
                if (!last.Fin)
                {
                    return "The WebSocket received a continuation frame with an opcode other than continuation.";
                }

                break;
            case FrameOpcode.Close:
            case FrameOpcode.Ping:
            case FrameOpcode.Pong:
                if (length > MaxControlPayload || !header.Fin)
                {
                    return "The WebSocket received an invalid control message.";
                }

                break;
            default:
                return $"The WebSocket received a frame with an unknown opcode: '0x{(byte)header.Opcode:X}'.";
        }

        header.Processed = length == 0;
        return null;
    }

    /// <summary>Writes a server frame's header (never masked) for a payload of <paramref name="length"/>; returns its size.</summary>
    public static int WriteServer(Span<byte> destination, FrameOpcode opcode, bool fin, int length)
    {
        destination[0] = (byte)((fin ? 0x80 : 0) | (byte)opcode);
        if (length <= 125)
        {
            destination[1] = (byte)length;
            return 2;
        }

        if (length <= ushort.MaxValue)
        {
            destination[1] = 126;
            BinaryPrimitives.WriteUInt16BigEndian(destination[2..], (ushort)length);
            return 4;
        }

        destination[1] = 127;
        BinaryPrimitives.WriteUInt64BigEndian(destination[2..], (ulong)length);
        return 10;
    }
}
