using System.Net;
using ChatHub.LoadTests.Probes;

namespace ChatHub.LoadTests.Scenarios.Connections;

/// <summary>
/// Where connection number i goes: server i mod S, room i mod R, source address (i div S) mod A.
/// Serialized to worker processes, so every process agrees on the same global numbering.
/// </summary>
internal sealed class ConnectionPlan
{
    public List<string> Urls { get; set; } = [];
    public List<string> Sources { get; set; } = [];
    public int Rooms { get; set; } = 500;
    public string RoomPrefix { get; set; } = "r";
    public int Concurrency { get; set; } = 100;
    public int ConnectTimeoutMs { get; set; } = 15000;

    /// <summary>What the servers speak (<see cref="TargetKinds.Name"/>): every server of one run is of one kind.</summary>
    public string Kind { get; set; } = "chathub";

    public Uri BaseUrlFor(int index) => new(Urls[index % Urls.Count]);

    public string RoomFor(int index) => RoomPrefix + (index % Rooms).ToString(System.Globalization.CultureInfo.InvariantCulture);

    public IPAddress? SourceFor(int index) =>
        Sources.Count == 0 ? null : IPAddress.Parse(Sources[index / Urls.Count % Sources.Count]);
}
