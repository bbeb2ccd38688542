using ChatHub.Server.Backplane;
using ChatHub.Server.Backplane.Local;
using ChatHub.Server.Configuration;
using ChatHub.Server.Storage;
using Microsoft.Extensions.Options;

namespace ChatHub.Tests.Unit;

/// <summary>
/// The one-node membership keeps each room's sorted member list up to date change by change (no full sort per
/// join or leave): after any mix of joins, leaves, renames (also to the same name in another case) and devices
/// of one user, the list it hands out is the room's names, sorted without case, each once.
/// </summary>
public sealed class LocalRoomMembershipTests
{
    [Fact]
    public async Task The_member_list_stays_sorted_and_exact_through_random_changes()
    {
        var options = Options.Create(new ChatHubOptions());
        var bus = new LocalRoomBus();
        IRoomMembership membership = new LocalRoomMembership(bus, new LocalRoomLog(new InMemoryHistoryStore(options), bus, options, TimeProvider.System), new NodeIdentity());
        // Rooms trust this and send the list as joined.members without checking its order.
        Assert.True(membership.ListsSorted);
        var random = new Random(20261125);
        var expected = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase); // name -> connections
        string[] pool = ["ann", "Bob", "carol", "dave", "Erin", "frank", "gus", "hal", "ivy", "jo", "kim", "lu"];

        for (int step = 0; step < 2000; step++)
        {
            string name = pool[random.Next(pool.Length)];
            MembershipResult result;
            switch (random.Next(3))
            {
                case 0:
                    result = await membership.JoinAsync("r", name, step, CancellationToken.None);
                    expected[name] = expected.GetValueOrDefault(name) + 1;
                    break;
                case 1:
                    result = await membership.LeaveAsync("r", name, step, CancellationToken.None);
                    if (expected.TryGetValue(name, out int held))
                    {
                        if (held == 1) expected.Remove(name); else expected[name] = held - 1;
                    }

                    break;
                default:
                    var present = expected.Keys.ToArray();
                    if (present.Length == 0)
                    {
                        continue;
                    }

                    string from = present[random.Next(present.Length)];
                    // Sometimes the same name in another case, as a nick may do.
                    string to = random.Next(4) == 0 ? from.ToUpperInvariant() : pool[random.Next(pool.Length)];
                    result = await membership.RenameAsync("r", from, to, step, CancellationToken.None);
                    int count = expected[from];
                    if (count == 1) expected.Remove(from); else expected[from] = count - 1;
                    expected[to] = expected.GetValueOrDefault(to) + 1;
                    break;
            }

            var names = result.Members;
            Assert.Equal(expected.Count, names.Count);
            Assert.Equal(expected.Keys.Order(StringComparer.OrdinalIgnoreCase).Select(n => n.ToLowerInvariant()), names.Select(n => n.ToLowerInvariant()));
            Assert.Equal(names, names.Order(StringComparer.OrdinalIgnoreCase));
            Assert.Equal(names.Count, (await membership.MembersAsync("r", CancellationToken.None)).Count);
        }
    }
}
