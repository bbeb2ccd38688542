using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace ChatHub.Server.Protocol;

/// <summary>Writes <c>ts</c> as ISO-8601 UTC with exactly three fractional digits, as the protocol fixes it.</summary>
public sealed class WireTimestampConverter : JsonConverter<DateTimeOffset>
{
    public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        DateTimeOffset.Parse(reader.GetString()!, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);

    public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options) => WriteValue(writer, value);

    public static void WriteValue(Utf8JsonWriter writer, DateTimeOffset value)
    {
        Span<char> buffer = stackalloc char[24];
        value.UtcDateTime.TryFormat(buffer, out int written, Timestamps.WireFormat, CultureInfo.InvariantCulture);
        writer.WriteStringValue(buffer[..written]);
    }
}
