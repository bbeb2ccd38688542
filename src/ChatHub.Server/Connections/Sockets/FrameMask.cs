using System.Buffers.Binary;

namespace ChatHub.Server.Connections.Sockets;

/// <summary>
/// Unmasks a client's payload in place (RFC 6455 5.3): each byte is XORed with the byte of the 4-byte key at its
/// position, a position that carries on across the pieces of one frame read separately.
/// </summary>
internal static class FrameMask
{
    /// <summary>
    /// XORs <paramref name="payload"/> with <paramref name="key"/> (its 4 bytes as read from the wire, little-endian)
    /// starting at key byte <paramref name="keyIndex"/>; returns the key index for the byte after it.
    /// </summary>
    public static int Apply(Span<byte> payload, uint key, int keyIndex)
    {
        if (key == 0 || payload.IsEmpty)
        {
            return (keyIndex + payload.Length) & 3;
        }

        // Rotated so that its first byte is the one for payload[0]; 8 bytes at a time while they last.
        uint rotated = (key >> (keyIndex * 8)) | (keyIndex == 0 ? 0 : key << (32 - keyIndex * 8));
        ulong wide = rotated | ((ulong)rotated << 32);
        int i = 0;
        for (; i + 8 <= payload.Length; i += 8)
        {
            var chunk = payload.Slice(i, 8);
            BinaryPrimitives.WriteUInt64LittleEndian(chunk, BinaryPrimitives.ReadUInt64LittleEndian(chunk) ^ wide);
        }

        for (; i < payload.Length; i++)
        {
            payload[i] ^= (byte)(rotated >> ((i & 3) * 8));
        }

        return (keyIndex + payload.Length) & 3;
    }
}
