using System.Text.Json.Serialization;

namespace ChatHub.LoadTests.Scenarios.Connections;

/// <summary>
/// One line of JSON from the coordinator to a worker on its stdin: "plan" (once), "add", "exit".
/// The worker answers each with one <see cref="BatchResult"/> line on stdout ("plan" and "exit" with an empty one).
/// </summary>
internal sealed class WorkerRequest
{
    public string Op { get; set; } = "";
    public ConnectionPlan? Plan { get; set; }
    public int First { get; set; }
    public int Count { get; set; }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(WorkerRequest))]
[JsonSerializable(typeof(BatchResult))]
internal sealed partial class WorkerJsonContext : JsonSerializerContext
{
}
