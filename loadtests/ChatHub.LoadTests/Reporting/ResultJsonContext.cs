using System.Text.Json.Serialization;
using ChatHub.LoadTests.Scenarios.Chat;
using ChatHub.LoadTests.Scenarios.Compare;
using ChatHub.LoadTests.Scenarios.Connections;
using ChatHub.LoadTests.Scenarios.Fanout;
using ChatHub.LoadTests.Scenarios.SlowConsumer;

namespace ChatHub.LoadTests.Reporting;

/// <summary>Source-generated writers for the result files.</summary>
[JsonSourceGenerationOptions(
    WriteIndented = true,
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(ConnectionsResult))]
[JsonSerializable(typeof(FanoutResult))]
[JsonSerializable(typeof(ChatResult))]
[JsonSerializable(typeof(SlowConsumerResult))]
[JsonSerializable(typeof(CompareResult))]
internal sealed partial class ResultJsonContext : JsonSerializerContext
{
}
