using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading.Channels;
using ChatHub.Server.Configuration;
using ChatHub.Server.Connections;
using ChatHub.Server.Observability;
using ChatHub.Server.Protocol;
using ChatHub.Server.Storage;

namespace ChatHub.Server.Rooms;

/// <summary>
/// Owns one room: its members, its seq counter, its window of recent messages and its ref dedup. The mailbox
/// is the only way in and has one reader, so none of this state needs a lock. Nothing in the loop awaits a
/// member: frames go into members' outboxes with TryWrite, and a member whose outbox is full closes itself.
///
/// A said message gets its seq at once but is delivered only when the store reports it durable (in seq order),
/// so no member ever sees a seq that a crash could hand to another message.
/// </summary>
internal sealed partial class RoomActor : IAppendCompletion
{
    /// <summary>Messages in <c>joined.history</c> when the join names no <c>since</c>.</summary>
    public const int DefaultJoinHistory = 50;

    private readonly IHistoryStore _store;
    private readonly RoomRegistry _registry;
    private readonly ChatMetrics _metrics;
    private readonly TimeProvider _clock;
    private readonly ILogger _logger;
    private readonly int _window;
    private readonly int _capacity;
    private readonly TimeSpan _idleFor;
    // Posting and retiring lock the mailbox object (no lock object of its own per room), so that no command is
    // ever accepted by an actor that has retired.
    private readonly Channel<RoomCommand> _mailbox = Channel.CreateUnbounded<RoomCommand>(
        new UnboundedChannelOptions { SingleReader = true, AllowSynchronousContinuations = false });

    // Each member connection with the name the room knows it by (as of its join or last rename). One user on several
    // devices is one member for presence and member lists, so users are counted apart from connections.
    private readonly Dictionary<ChatConnection, string> _members = [];
    // Users of shared names (one user on several devices) with their connections here; made on the first such
    // member and dropped with the last, so rooms without them pay nothing for it. Other names are one connection each.
    private Dictionary<string, int>? _sharedUsers;
    private int _soloUsers;
    private readonly Queue<(ChatMessage Message, ChatConnection Sender)> _unstored = new();
    private MessageWindow _recent = null!;
    private RefDeduplicator _refs = null!;
    private string[]? _sortedNames;
    private long _lastAssignedSeq;
    private long _lastStoredSeq;
    private int _started;
    private bool _retired;
    private int _queued; // commands posted and not yet handled; the store's callbacks are not counted
    private int _bounded; // those of them that count against the capacity
    private long _idleSince; // timestamp of the last command handled while the room had no members
    private bool _unload;
    private volatile int _memberCount;

    public RoomActor(string name, IHistoryStore store, RoomRegistry registry, ChatHubOptions options,
        ChatMetrics metrics, TimeProvider clock, ILogger logger)
    {
        Name = name;
        _store = store;
        _registry = registry;
        _metrics = metrics;
        _clock = clock;
        _logger = logger;
        _window = options.Storage.HistoryWindow;
        _capacity = options.Limits.RoomMailboxCapacity;
        _idleFor = options.Rooms.IdleUnloadAfter;
        _idleSince = clock.GetTimestamp();
    }

    public string Name { get; }

    /// <summary>Users in the room (a user on several devices counts once). Read by other threads; written only by the actor.</summary>
    public int MemberCount => _memberCount;

    /// <summary>Seq of the newest stored message (0: none yet). Read by other threads for the room list.</summary>
    public long LastSeq => Volatile.Read(ref _lastStoredSeq);

    /// <summary>
    /// <see cref="PostResult.NotLoaded"/> once the actor has retired (the caller then asks the registry for a fresh
    /// one); <see cref="PostResult.MailboxFull"/> when a <paramref name="bounded"/> command finds the mailbox at capacity.
    /// </summary>
    public PostResult TryPost(RoomCommand command, bool bounded)
    {
        lock (_mailbox)
        {
            if (_retired)
            {
                return PostResult.NotLoaded;
            }

            if (bounded)
            {
                if (_bounded >= _capacity)
                {
                    return PostResult.MailboxFull;
                }

                Interlocked.Increment(ref _bounded);
            }

            command.Bounded = bounded;
            Interlocked.Increment(ref _queued);
            _mailbox.Writer.TryWrite(command);
        }

        if (Interlocked.CompareExchange(ref _started, 1, 0) == 0)
        {
            _ = Task.Run(RunAsync);
        }

        return PostResult.Posted;
    }

    /// <summary>True when the room has had no members, and nothing to do, for longer than <paramref name="idleFor"/>. Read by the sweep.</summary>
    public bool IdleLongerThan(TimeSpan idleFor) =>
        _memberCount == 0 && _clock.GetElapsedTime(Volatile.Read(ref _idleSince)) > idleFor;

    void IAppendCompletion.OnAppended(ChatMessage message)
    {
        // Called on the store's writer; hop back onto the actor. The mailbox never completes while a message is
        // unstored (see TryRetire), so this write cannot fail.
        _mailbox.Writer.TryWrite(new MessageStored(message));
    }

    void IAppendCompletion.OnAppendFailed(ChatMessage message) =>
        _mailbox.Writer.TryWrite(new MessageFailed(message)); // like OnAppended: the mailbox is still open

    private async Task RunAsync()
    {
        await LoadWithRetryAsync();
        var reader = _mailbox.Reader;
        while (await reader.WaitToReadAsync())
        {
            while (reader.TryRead(out var command))
            {
                if (command is not (MessageStored or MessageFailed))
                {
                    Interlocked.Decrement(ref _queued);
                    if (command.Bounded)
                    {
                        Interlocked.Decrement(ref _bounded);
                    }
                }

                try
                {
                    Handle(command);
                }
                catch (Exception e)
                {
                    // A bug in one command must not take the room down for everyone in it.
                    LogCommandFailed(_logger, e, Name, command.GetType().Name);
                }
            }

            if (TryRetire())
            {
                break;
            }
        }
    }

    /// <summary>Commands wait in the mailbox while the store cannot be read; the room starts once it can.</summary>
    private async Task LoadWithRetryAsync()
    {
        var delay = TimeSpan.FromMilliseconds(100);
        while (true)
        {
            try
            {
                await LoadAsync();
                return;
            }
            catch (Exception e)
            {
                LogLoadFailed(_logger, e, Name, delay.TotalMilliseconds);
                await Task.Delay(delay, _clock);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
            }
        }
    }

    private async Task LoadAsync()
    {
        var history = await _store.LoadAsync(Name, _window, CancellationToken.None);
        _recent = new MessageWindow(_window);
        _refs = new RefDeduplicator(_clock);
        var refsSince = _clock.GetUtcNow() - RefDeduplicator.Lifetime;
        foreach (var message in history.Messages)
        {
            _recent.Add(message);
            if (message.Ref is not null && message.Timestamp > refsSince)
            {
                _refs.Remember(message.From, message.Ref, message.Seq, message.Timestamp);
            }
        }

        _lastAssignedSeq = Math.Max(history.LastSeq, _recent.NewestSeq);
        Volatile.Write(ref _lastStoredSeq, _lastAssignedSeq);
    }

    private void Handle(RoomCommand command)
    {
        switch (command)
        {
            case SayInRoom say: Say(say); break;
            case MessageStored stored: Deliver(stored.Message); break;
            case MessageFailed failed: Refuse(failed.Message); break;
            case JoinRoom join: Join(join); break;
            case LeaveRoom leave: Leave(leave); break;
            case RenameInRoom rename: Rename(rename); break;
            case WhoInRoom who: who.Asker.Send(new MembersEvent(Name, SortedNames())); break;
            case HistoryOfRoom history: SendHistory(history); break;
            case UnloadIfIdle unload: _unload = _members.Count == 0 && (unload.EvenIfRecent || IdleLongerThan(_idleFor)); return; // no activity
        }

        if (_members.Count == 0)
        {
            Volatile.Write(ref _idleSince, _clock.GetTimestamp());
        }
    }

    private void Say(SayInRoom say)
    {
        var sender = say.Sender;
        string name = say.Name;
        if (say.Ref is not null && _refs.TryGet(name, say.Ref, out var earlier))
        {
            if (earlier.Seq <= _lastStoredSeq)
            {
                sender.Send(new AckEvent(say.Ref, Name, earlier.Seq));
            }
            else
            {
                (earlier.Waiters ??= []).Add(sender);
            }

            return;
        }

        if (_unstored.Count >= _capacity)
        {
            // The store is slow or failing and this room's messages pile up: refuse rather than grow without bound.
            sender.Send(new ErrorEvent(ErrorCodes.ServerBusy, $"{Name} has {_capacity} messages waiting to be stored; send it again later", say.Ref));
            return;
        }

        var now = Timestamps.NowTruncated(_clock);
        var message = new ChatMessage(Name, ++_lastAssignedSeq, name, say.Text, now, say.Ref);
        if (say.Ref is not null)
        {
            _refs.Remember(name, say.Ref, message.Seq, now);
        }

        _unstored.Enqueue((message, sender));
        _store.Append(message, this);
    }

    private void Deliver(ChatMessage message)
    {
        var (expected, sender) = _unstored.Dequeue();
        if (!ReferenceEquals(expected, message))
        {
            throw new InvalidOperationException($"Store reported {message.Room}#{message.Seq} out of order; expected #{expected.Seq}");
        }

        _recent.Add(message);
        Volatile.Write(ref _lastStoredSeq, message.Seq);
        _metrics.MessagesOutAdd(Broadcast(new MessageEvent(message), except: null));

        var ack = new AckEvent(message.Ref, Name, message.Seq);
        sender.Send(ack);
        if (message.Ref is not null && _refs.TryGet(message.From, message.Ref, out var entry) && entry.Waiters is { } waiters)
        {
            foreach (var waiter in waiters)
            {
                waiter.Send(ack);
            }

            entry.Waiters = null;
        }
    }

    /// <summary>
    /// The store refused the message: it has no seq after all. Its sender (and any resend of its ref waiting on it)
    /// gets <c>unavailable</c> and may send it again; the ref is forgotten so that the resend is stored. The store
    /// refuses every later message of this room until the room starts again from the refused seq, so once nothing
    /// is unstored the counter rolls back and the room's seqs stay without a gap.
    /// </summary>
    private void Refuse(ChatMessage message)
    {
        var (expected, sender) = _unstored.Dequeue();
        if (!ReferenceEquals(expected, message))
        {
            throw new InvalidOperationException($"Store refused {message.Room}#{message.Seq} out of order; expected #{expected.Seq}");
        }

        var error = new ErrorEvent(ErrorCodes.Unavailable, "the message could not be stored; send it again", message.Ref);
        sender.Send(error);
        if (message.Ref is not null && _refs.TryGet(message.From, message.Ref, out var entry) && entry.Seq == message.Seq)
        {
            foreach (var waiter in entry.Waiters ?? [])
            {
                waiter.Send(error);
            }

            _refs.Forget(message.From, message.Ref);
        }

        if (_unstored.Count == 0)
        {
            _lastAssignedSeq = _lastStoredSeq;
        }
    }

    private void Join(JoinRoom join)
    {
        var member = join.Member;
        bool isNew = _members.TryAdd(member, join.Name);
        bool firstOfUser = isNew && AddUser(member, join.Name);

        ChatMessage[] history;
        bool truncated = false;
        if (join.Since > _lastStoredSeq)
        {
            // The client saw seqs this room never had: the store lost its history (an in-memory store restarted).
            // Its "since" means nothing here; hand it the room as it is and say that the past is gone.
            history = _recent.Newest(DefaultJoinHistory);
            truncated = true;
        }
        else if (join.Since is { } since)
        {
            history = _recent.After(since);
            // Something between `since` and the oldest kept message is gone for good.
            long firstKept = _recent.Count == 0 ? _lastStoredSeq + 1 : _recent.OldestSeq;
            truncated = since + 1 < firstKept && since < _lastStoredSeq;
        }
        else
        {
            history = _recent.Newest(DefaultJoinHistory);
        }

        member.Send(new JoinedEvent(Name, SortedNames(), history, truncated));
        if (firstOfUser)
        {
            Broadcast(new PresenceEvent(Name, join.Name, PresenceEvent.Join, null, _memberCount), except: member);
        }
    }

    private void Leave(LeaveRoom leave)
    {
        var member = leave.Member;
        if (!_members.Remove(member, out string? name))
        {
            if (leave.Reply)
            {
                member.Send(new ErrorEvent(ErrorCodes.NotInRoom, $"you are not in {Name}", null));
            }

            return;
        }

        bool lastOfUser = RemoveUser(member, name);
        if (leave.Reply)
        {
            member.Send(new LeftEvent(Name));
        }

        if (lastOfUser)
        {
            Broadcast(new PresenceEvent(Name, name, PresenceEvent.Leave, null, _memberCount), except: member);
        }
    }

    private void Rename(RenameInRoom rename)
    {
        if (!_members.ContainsKey(rename.Member))
        {
            return;
        }

        // Only a connection that does not share its name can rename: its user is this connection alone.
        _members[rename.Member] = rename.NewName;
        _sortedNames = null;
        Broadcast(new PresenceEvent(Name, rename.OldName, PresenceEvent.Rename, rename.NewName, _memberCount), except: rename.Member);
    }

    /// <summary>Counts one more connection of a user; true when it is the user's first here.</summary>
    private bool AddUser(ChatConnection member, string name)
    {
        if (member.SharesName)
        {
            _sharedUsers ??= new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
            ref int connections = ref CollectionsMarshal.GetValueRefOrAddDefault(_sharedUsers, name, out _);
            if (++connections > 1)
            {
                return false;
            }
        }
        else
        {
            _soloUsers++; // a name that is not shared is one connection's alone
        }

        UsersChanged();
        return true;
    }

    /// <summary>Counts one connection of a user less; true when it was the user's last here.</summary>
    private bool RemoveUser(ChatConnection member, string name)
    {
        if (member.SharesName)
        {
            if (_sharedUsers is null)
            {
                return false;
            }

            ref int connections = ref CollectionsMarshal.GetValueRefOrNullRef(_sharedUsers, name);
            if (Unsafe.IsNullRef(ref connections) || --connections > 0)
            {
                return false;
            }

            _sharedUsers.Remove(name);
            if (_sharedUsers.Count == 0)
            {
                _sharedUsers = null;
            }
        }
        else
        {
            _soloUsers--;
        }

        UsersChanged();
        return true;
    }

    private void UsersChanged()
    {
        _sortedNames = null;
        _memberCount = _soloUsers + (_sharedUsers?.Count ?? 0);
    }

    private void SendHistory(HistoryOfRoom request)
    {
        long before = request.Before ?? long.MaxValue;
        request.Asker.Send(new HistoryEvent(Name, _recent.Before(before, request.Limit)));
    }

    /// <summary>Queues one event to every member but <paramref name="except"/>; returns how many got it.</summary>
    private int Broadcast(ServerEvent serverEvent, ChatConnection? except)
    {
        var frame = new BroadcastFrame(serverEvent);
        int delivered = 0;
        foreach (var member in _members.Keys)
        {
            if (!ReferenceEquals(member, except) && member.TrySendFrame(frame.For(member.Format)))
            {
                delivered++;
            }
        }

        return delivered;
    }

    private string[] SortedNames()
    {
        if (_sortedNames is null)
        {
            var names = new string[_memberCount];
            int i = 0;
            foreach (var (member, name) in _members)
            {
                if (!member.SharesName)
                {
                    names[i++] = name;
                }
            }

            _sharedUsers?.Keys.CopyTo(names, i);
            Array.Sort(names, StringComparer.OrdinalIgnoreCase);
            _sortedNames = names;
        }

        return _sortedNames;
    }

    /// <summary>
    /// A room with no members and no unstored messages leaves memory: at once when it has no history (so rooms
    /// joined once and left do not pile up), after <c>Rooms:IdleUnloadAfter</c> otherwise (its history stays in the
    /// store, and its seq continues when it loads again). It retires only with an empty mailbox, under the same lock
    /// as every post: a command that raced in is handled here first, and once retired the actor accepts nothing
    /// more, so every later command goes to the next incarnation in the order it was sent. (Handing late commands on
    /// to the next incarnation instead could put a join there behind the leave that followed it: a ghost member.)
    /// </summary>
    private bool TryRetire()
    {
        bool unload = _unload;
        _unload = false;
        if (_members.Count > 0 || _unstored.Count > 0 || (_lastStoredSeq > 0 && !unload))
        {
            return false;
        }

        lock (_mailbox)
        {
            if (Volatile.Read(ref _queued) > 0)
            {
                return false;
            }

            _retired = true;
            _registry.Remove(this);
        }

        _mailbox.Writer.TryComplete();
        return true;
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Room {Room}: {Command} failed")]
    private static partial void LogCommandFailed(ILogger logger, Exception exception, string room, string command);

    [LoggerMessage(Level = LogLevel.Error, Message = "Room {Room}: loading its history failed; retrying in {DelayMs} ms")]
    private static partial void LogLoadFailed(ILogger logger, Exception exception, string room, double delayMs);
}
