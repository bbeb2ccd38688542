using System.Text.Json.Serialization;

namespace ChatHub.LoadTests.Protocol;

/// <summary>Source-generated (de)serializers for the wire frames: no reflection on the hot receive path.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    PropertyNameCaseInsensitive = false,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    NumberHandling = JsonNumberHandling.AllowReadingFromString)]
[JsonSerializable(typeof(ServerFrame))]
[JsonSerializable(typeof(SayFrame))]
[JsonSerializable(typeof(ServerStats))]
internal sealed partial class ProtocolJsonContext : JsonSerializerContext
{
}
