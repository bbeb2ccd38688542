using System.Collections.Concurrent;
using ChatHub.Server.Protocol;

namespace ChatHub.Server.Backplane.Local;

/// <summary>
/// One node's room membership: per room, each member name with how many of its connections are in, so a
/// name with several connections is one member. Changes are published on the <see cref="LocalRoomBus"/>
/// under the room's lock, so presence leaves in the order the changes were made.
/// </summary>
internal sealed class LocalRoomMembership(LocalRoomBus bus, LocalRoomLog log, NodeIdentity node) : IRoomMembership
{
    /// <summary>Every list is a room's <see cref="RoomMembers.SortedNames"/>, kept sorted by each change.</summary>
    public bool ListsSorted => true;

    private readonly ConcurrentDictionary<string, RoomMembers> _rooms = new(StringComparer.Ordinal);

    public Task<MembershipResult> JoinAsync(string room, string name, long connectionId, CancellationToken cancellationToken)
    {
        var members = _rooms.GetOrAdd(room, static _ => new RoomMembers());
        lock (members)
        {
            int count = members.Names.GetValueOrDefault(name) + 1;
            members.Names[name] = count;
            if (count == 1)
            {
                members.Insert(name);
                bus.PublishPresence(room, new PresenceChange(PresenceEvent.Join, name, null, node.Id, connectionId, members.Names.Count));
            }

            // The dictionary may have been dropped as empty between GetOrAdd and the lock: put it back.
            _rooms.TryAdd(room, members);
            return Task.FromResult(new MembershipResult(count == 1, members.SortedNames()));
        }
    }

    public Task<MembershipResult> LeaveAsync(string room, string name, long connectionId, CancellationToken cancellationToken)
    {
        if (!_rooms.TryGetValue(room, out var members))
        {
            return Task.FromResult(new MembershipResult(false, []));
        }

        lock (members)
        {
            bool removed = Remove(members, name);
            if (removed)
            {
                bus.PublishPresence(room, new PresenceChange(PresenceEvent.Leave, name, null, node.Id, connectionId, members.Names.Count));
            }

            if (members.Names.Count == 0)
            {
                _rooms.TryRemove(new KeyValuePair<string, RoomMembers>(room, members));
            }

            return Task.FromResult(new MembershipResult(removed, members.SortedNames()));
        }
    }

    public Task<MembershipResult> RenameAsync(string room, string oldName, string newName, long connectionId, CancellationToken cancellationToken)
    {
        if (!_rooms.TryGetValue(room, out var members))
        {
            return Task.FromResult(new MembershipResult(false, []));
        }

        lock (members)
        {
            if (!members.Names.ContainsKey(oldName))
            {
                return Task.FromResult(new MembershipResult(false, members.SortedNames()));
            }

            // One connection of a name renames. Usually it is the name's only one: a rename. A user on several
            // devices may still be here on the others under the old name, and the new name may be here already:
            // then it is the old name leaving (if this was its last connection) and the new one joining (if first).
            bool oldGone = Remove(members, oldName);
            int newCount = members.Names.GetValueOrDefault(newName) + 1;
            members.Names[newName] = newCount;
            if (newCount == 1)
            {
                members.Insert(newName);
            }

            int count = members.Names.Count;
            if (oldGone && newCount == 1)
            {
                bus.PublishPresence(room, new PresenceChange(PresenceEvent.Rename, oldName, newName, node.Id, connectionId, count));
            }
            else if (oldGone)
            {
                bus.PublishPresence(room, new PresenceChange(PresenceEvent.Leave, oldName, null, node.Id, connectionId, count));
            }
            else if (newCount == 1)
            {
                bus.PublishPresence(room, new PresenceChange(PresenceEvent.Join, newName, null, node.Id, connectionId, count));
            }

            return Task.FromResult(new MembershipResult(oldGone || newCount == 1, members.SortedNames()));
        }
    }

    public Task<IReadOnlyList<string>> MembersAsync(string room, CancellationToken cancellationToken)
    {
        if (!_rooms.TryGetValue(room, out var members))
        {
            return Task.FromResult<IReadOnlyList<string>>([]);
        }

        lock (members)
        {
            return Task.FromResult<IReadOnlyList<string>>(members.SortedNames());
        }
    }

    /// <summary>
    /// The log's page of rooms with history merged with the rooms that have members (which know the counts and
    /// include rooms without history yet). Only rooms with members are walked whole; the log is read one page.
    /// </summary>
    public async Task<RoomInfo[]> ListRoomsAsync(string? after, int limit, CancellationToken cancellationToken)
    {
        var page = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var stored = await log.ListRoomsAsync(after, limit, cancellationToken);
        foreach (var room in stored)
        {
            page[room.Room] = 0;
        }

        // A full page from the log ends the page: rooms with members that sort after its last one cannot be on it.
        string? last = stored.Count == limit ? stored[^1].Room : null;
        foreach (var (room, members) in _rooms)
        {
            bool onPage = (after is null || string.CompareOrdinal(room, after) > 0) && (last is null || string.CompareOrdinal(room, last) <= 0);
            if (!onPage)
            {
                continue;
            }

            lock (members)
            {
                if (members.Names.Count > 0)
                {
                    page[room] = members.Names.Count;
                }
            }
        }

        return page.Take(limit).Select(pair => new RoomInfo(pair.Key, pair.Value)).ToArray();
    }

    private static bool Remove(RoomMembers members, string name)
    {
        if (!members.Names.TryGetValue(name, out int count))
        {
            return false;
        }

        if (count > 1)
        {
            members.Names[name] = count - 1;
            return false;
        }

        members.Names.Remove(name);
        members.Delete(name);
        return true;
    }

    /// <summary>A room's names; guarded by locking the instance.</summary>
    private sealed class RoomMembers
    {
        private string[] _sorted = [];

        public Dictionary<string, int> Names { get; } = new(StringComparer.OrdinalIgnoreCase);

        /// <summary>
        /// The names sorted, kept up to date by each change: a new array per change (callers keep the one they got,
        /// as <c>joined.members</c>), built by one binary search and one copy. Sorting the whole room again after
        /// every join and leave made a room filling up or emptying cost n² log n comparisons.
        /// </summary>
        public string[] SortedNames() => _sorted;

        public void Insert(string name)
        {
            int at = ~Array.BinarySearch(_sorted, name, StringComparer.OrdinalIgnoreCase);
            var names = new string[_sorted.Length + 1];
            Array.Copy(_sorted, names, at);
            names[at] = name;
            Array.Copy(_sorted, at, names, at + 1, _sorted.Length - at);
            _sorted = names;
        }

        public void Delete(string name)
        {
            int at = Array.BinarySearch(_sorted, name, StringComparer.OrdinalIgnoreCase);
            var names = new string[_sorted.Length - 1];
            Array.Copy(_sorted, names, at);
            Array.Copy(_sorted, at + 1, names, at, _sorted.Length - at - 1);
            _sorted = names;
        }
    }
}
