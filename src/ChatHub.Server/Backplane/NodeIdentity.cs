using System.Security.Cryptography;

namespace ChatHub.Server.Backplane;

/// <summary>
/// This process's name among the nodes of a cluster. New at every start, so a restarted node never inherits
/// what a dead incarnation held (the survivors clean that up).
/// </summary>
internal sealed class NodeIdentity
{
    public string Id { get; } = Environment.MachineName.ToLowerInvariant() + "-" + RandomNumberGenerator.GetHexString(8, lowercase: true);
}
