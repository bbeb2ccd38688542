using System.Buffers.Text;
using System.Text.Json;

namespace ChatHub.LoadTests.Protocol;

/// <summary>
/// Reads a room <c>message</c> frame without building a <see cref="ServerFrame"/>: whether it is one of
/// <c>room</c>, its <c>seq</c> and the latency stamp at the start of its <c>text</c> (<see cref="Measurement.LatencyStamp"/>).
/// Members receive almost nothing but messages, and turning each into an object with five strings was most of the
/// generator's allocation in fan-out (its GC then paused it for seconds per run, on the cores the server needs).
/// Anything else (another type, nested values, escaped strings, a stamp-less text) returns false and goes through
/// <see cref="FrameCodec.Parse"/> as before.
/// </summary>
internal static class MessageFrameReader
{
    /// <summary>True for a well-formed flat <c>message</c> frame; <paramref name="inRoom"/> says whether it is <paramref name="room"/>'s.</summary>
    public static bool TryRead(ReadOnlySpan<byte> utf8, string room, out bool inRoom, out long? seq, out long? stamp)
    {
        inRoom = false;
        seq = null;
        stamp = null;
        bool isMessage = false, hasRoom = false;
        try
        {
            var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { MaxDepth = 1 });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueIsEscaped)
                {
                    return false;
                }
                ReadOnlySpan<byte> name = reader.ValueSpan;
                if (!reader.Read())
                {
                    return false;
                }
                JsonTokenType token = reader.TokenType;
                if (token is JsonTokenType.StartObject or JsonTokenType.StartArray)
                {
                    // Nested values are other frame types (joined, history, presence): the full parse handles those.
                    return false;
                }
                if (name.SequenceEqual("type"u8))
                {
                    if (token != JsonTokenType.String || reader.ValueIsEscaped || !reader.ValueSpan.SequenceEqual("message"u8))
                    {
                        return false;
                    }
                    isMessage = true;
                }
                else if (name.SequenceEqual("room"u8))
                {
                    if (token != JsonTokenType.String || reader.ValueIsEscaped)
                    {
                        return false;
                    }
                    hasRoom = true;
                    inRoom = reader.ValueTextEquals(room);
                }
                else if (name.SequenceEqual("seq"u8))
                {
                    if (token != JsonTokenType.Number || !reader.TryGetInt64(out long value))
                    {
                        return false;
                    }
                    seq = value;
                }
                else if (name.SequenceEqual("text"u8))
                {
                    if (token != JsonTokenType.String || reader.ValueIsEscaped)
                    {
                        return false;
                    }
                    stamp = ReadStamp(reader.ValueSpan);
                }
            }
            // The loop ends at the object's end; anything after it is not one JSON value.
            return reader.TokenType == JsonTokenType.EndObject && !reader.Read() && isMessage && hasRoom;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>The leading digits of "&lt;ticks&gt; &lt;padding&gt;", as <see cref="Measurement.LatencyStamp.TryRead"/> reads them.</summary>
    private static long? ReadStamp(ReadOnlySpan<byte> text)
    {
        int space = text.IndexOf((byte)' ');
        ReadOnlySpan<byte> digits = space < 0 ? text : text[..space];
        return digits.Length > 0 && digits.IndexOfAnyExceptInRange((byte)'0', (byte)'9') < 0
            && Utf8Parser.TryParse(digits, out long value, out int consumed) && consumed == digits.Length
            ? value
            : null;
    }
}
