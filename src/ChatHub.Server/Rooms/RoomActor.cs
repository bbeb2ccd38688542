using System.Diagnostics;
using System.Threading.Channels;
using ChatHub.Server.Backplane;
using ChatHub.Server.Configuration;
using ChatHub.Server.Connections;
using ChatHub.Server.Observability;
using ChatHub.Server.Protocol;

namespace ChatHub.Server.Rooms;

/// <summary>
/// This node's side of one room: its local members, its window of recent messages and the seq delivered last.
/// The mailbox is the only way in and has one reader, so none of this state needs a lock. Nothing in the loop
/// awaits a member or the store: frames go into members' outboxes with TryWrite, and the log, the bus and the
/// membership answer by posting back to the mailbox.
///
/// A <c>say</c> goes to the <see cref="IRoomLog"/>, which numbers, stores and publishes it. Messages come back
/// from the bus (or from the append's own answer) and are delivered strictly in seq order: a seq above the next
/// expected one is held while the gap is read from the log, because a cluster's pub/sub may lose a publish.
/// The sender's ack follows its message, so an ack always means "stored, and you have seen it".
/// </summary>
internal sealed partial class RoomActor : IAppendCallback, IRoomSink
{
    /// <summary>Messages in <c>joined.history</c> when the join names no <c>since</c>.</summary>
    public const int DefaultJoinHistory = 50;

    /// <summary>Most messages read from the log in one gap fill.</summary>
    private const int FillBatch = 500;

    /// <summary>Messages held behind a gap before the log is read even while this node's own appends are out.</summary>
    private const int MaxHeldBeforeFill = 32;

    // The store may be away for a moment (locked, a table being migrated, Redis failing over): requests wait in
    // the bounded mailbox meanwhile, and hear unavailable only after these.
    private static readonly TimeSpan[] StartRetries =
        [TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(300), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(4)];

    private readonly RoomServices _services;
    private readonly int _window;
    private readonly int _capacity;

    // Posting and retiring lock the mailbox object (no lock object of its own per room), so that no command is
    // ever accepted by an actor that has retired.
    private readonly Channel<RoomCommand> _mailbox = Channel.CreateUnbounded<RoomCommand>(
        new UnboundedChannelOptions { SingleReader = true, AllowSynchronousContinuations = false });

    private readonly HashSet<ChatConnection> _members = [];

    /// <summary>Connections whose join waits for the membership; true once they asked to leave meanwhile.</summary>
    private readonly Dictionary<ChatConnection, bool> _joining = [];

    // The name each member (or joining connection) holds in the membership. A connection's own Name changes on the
    // read loop as soon as a nick is read, ahead of the commands it posted before; leaves and renames must name the
    // member as the membership knows it, or the old name stays behind as a ghost member.
    private readonly Dictionary<ChatConnection, string> _membershipNames = [];

    // Renames read while the membership still works on the member's join (a cluster's join is a round trip): the
    // join went out under the old name, so the rename is made once the join is in. Created on first use.
    private Dictionary<ChatConnection, string>? _renamesAfterJoin;

    // Presence for the members that take batches (presence=batch): gathered here, sent once per tick, and always
    // before the next message of the room, so no member sees a message from someone it has not been told joined.
    private readonly PresenceBatch _presenceBatch = new();
    private int _batchMembers;

    private MessageWindow _recent = null!;
    private SortedDictionary<long, ChatMessage>? _early;
    private PriorityQueue<(ChatConnection Sender, string? Ref), long>? _pendingAcks;
    private long _lastDelivered;
    private int _inFlight;
    private int _appending;
    private bool _filling;
    private int _started;
    private bool _retired;
    private volatile bool _running; // started: the store was read, and every command posted from now on is handled
    private int _queued; // commands posted and not yet taken; the log's, bus's and membership's answers are not counted
    private int _bounded; // those of them that count against the capacity
    private volatile int _memberCount;

    public RoomActor(string name, RoomServices services)
    {
        Name = name;
        _services = services;
        _window = services.Options.Storage.HistoryWindow;
        _capacity = services.Options.Limits.RoomMailboxCapacity;
    }

    public string Name { get; }

    /// <summary>Members on this node. Read by other threads; written only by the actor.</summary>
    public int MemberCount => _memberCount;

    /// <summary>Seq of the newest delivered message (0: none yet). Read by other threads.</summary>
    public long LastSeq => Volatile.Read(ref _lastDelivered);

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
                if (Volatile.Read(ref _bounded) >= _capacity)
                {
                    return PostResult.MailboxFull;
                }

                Interlocked.Increment(ref _bounded);
            }

            command.Bounded = bounded;
            command.Queued = true;
            Interlocked.Increment(ref _queued);
            _mailbox.Writer.TryWrite(command);
        }

        if (!_running && command is JoinRoom join)
        {
            // Starting reads the store, with retries while it is away: a join does not hold its member's sends for that.
            join.ReleaseSends();
        }

        if (Interlocked.CompareExchange(ref _started, 1, 0) == 0)
        {
            _ = Task.Run(RunAsync);
        }

        return PostResult.Posted;
    }

    // The log, bus and membership call these on their own threads; each hops back onto the actor. None of them
    // can find the mailbox completed while the actor waits for them (see TryRetire), except bus deliveries
    // racing an unsubscribe, which are then rightly dropped.
    void IAppendCallback.OnAppended(AppendRequest request, AppendResult result) => _mailbox.Writer.TryWrite(new Appended(request, result));

    void IRoomSink.OnMessage(ChatMessage message) => _mailbox.Writer.TryWrite(new MessageArrived(message));

    void IRoomSink.OnPresence(PresenceChange change) => _mailbox.Writer.TryWrite(new PresenceArrived(change));

    void IRoomSink.OnResumed() => _mailbox.Writer.TryWrite(CatchUp.Instance);

    private async Task RunAsync()
    {
        if (!await TryStartAsync())
        {
            FailQueuedAndRetire();
            return;
        }

        _running = true;
        var reader = _mailbox.Reader;
        while (await reader.WaitToReadAsync())
        {
            while (reader.TryRead(out var command))
            {
                Taken(command);
                try
                {
                    Handle(command);
                }
                catch (Exception e)
                {
                    // A bug in one command must not take the room down for everyone in it.
                    LogCommandFailed(_services.Logger, e, Name, command.GetType().Name);
                }
            }

            if (TryRetire())
            {
                break;
            }
        }
    }

    private void Taken(RoomCommand command)
    {
        if (command.Queued)
        {
            Interlocked.Decrement(ref _queued);
            if (command.Bounded)
            {
                Interlocked.Decrement(ref _bounded);
            }
        }
    }

    /// <summary>
    /// Subscribes first, then reads the log, so that nothing published in between is missed: what the bus brings
    /// that the load already had is dropped by seq. A few quick retries; then the room gives up for now.
    /// </summary>
    private async Task<bool> TryStartAsync()
    {
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                await _services.Bus.SubscribeAsync(Name, this, CancellationToken.None);
                var history = await _services.Log.LoadAsync(Name, _window, CancellationToken.None);
                _recent = new MessageWindow(_window);
                foreach (var message in history.Messages)
                {
                    _recent.Add(message);
                }

                Volatile.Write(ref _lastDelivered, Math.Max(history.LastSeq, _recent.NewestSeq));
                return true;
            }
            catch (Exception e)
            {
                _services.Bus.Unsubscribe(Name, this);
                if (attempt == StartRetries.Length)
                {
                    LogStartFailed(_services.Logger, e, Name);
                    return false;
                }

                await Task.Delay(StartRetries[attempt], _services.Clock);
            }
        }
    }

    /// <summary>The room could not start: every request waiting for it hears <c>unavailable</c>; the next one tries again.</summary>
    private void FailQueuedAndRetire()
    {
        lock (_mailbox)
        {
            _retired = true;
            _services.Registry.Remove(this);
        }

        _mailbox.Writer.TryComplete();
        while (_mailbox.Reader.TryRead(out var command))
        {
            Taken(command);
            var (asker, reference) = command switch
            {
                JoinRoom join => (join.Member, null),
                SayInRoom say => (say.Sender, say.Ref),
                HistoryOfRoom history => (history.Asker, null),
                WhoInRoom who => (who.Asker, who.Ref),
                _ => ((ChatConnection?)null, (string?)null),
            };
            asker?.Send(new ErrorEvent(ErrorCodes.Unavailable, $"{Name} cannot be reached now; try again", reference));
        }
    }

    private void Handle(RoomCommand command)
    {
        switch (command)
        {
            case SayInRoom say: Say(say); break;
            case Appended appended: OnAppended(appended); break;
            case MessageArrived arrived: Arrive(arrived.Message); break;
            case PresenceArrived presence: OnPresence(presence.Change); break;
            case JoinRoom join:
                try
                {
                    Join(join);
                }
                finally
                {
                    join.ReleaseSends(); // answered (joined or an error) or waiting for the membership: either way, let go
                }

                break;
            case JoinCompleted completed: CompleteJoin(completed); break;
            case LeaveRoom leave: Leave(leave); break;
            case RenameInRoom rename: Rename(rename); break;
            case HistoryOfRoom history: SendHistory(history); break;
            case GapRead read: OnGapRead(read); break;
            case CatchUp: StartFill(); break;
            case MembershipSettled: _inFlight--; break;
            case PresenceTick: _presenceBatch.TickScheduled = false; SendPresenceBatch(); break;
        }
    }

    private void Say(SayInRoom say)
    {
        var sender = say.Sender;
        if (!_members.Contains(sender) && !_joining.ContainsKey(sender))
        {
            sender.Send(new ErrorEvent(ErrorCodes.NotInRoom, $"join {Name} first", say.Ref));
            return;
        }

        if (_appending >= _capacity)
        {
            // The store is slow or failing and this room's messages pile up: refuse rather than grow without bound.
            sender.Send(new ErrorEvent(ErrorCodes.ServerBusy, $"{Name} has {_capacity} messages waiting to be stored; send it again later", say.Ref));
            return;
        }

        _inFlight++;
        _appending++;
        var request = new AppendRequest(Name, say.Name, say.Text, say.Ref, Timestamps.NowTruncated(_services.Clock)) { Origin = sender };
        _services.Log.Append(request, this);
    }

    private void OnAppended(Appended appended)
    {
        _inFlight--;
        _appending--;
        var request = appended.Request;
        var sender = (ChatConnection)request.Origin!;
        var result = appended.Result;
        if (result.Outcome == AppendOutcome.Unavailable)
        {
            var error = new ErrorEvent(ErrorCodes.Unavailable, "the message could not be stored; it was not sent, try again", request.Ref);
            sender.Send(error);
            if (result.Seq > 0)
            {
                RefuseWaiters(result.Seq, error);
            }

            return;
        }

        if (result.Outcome == AppendOutcome.Stored && result.Seq > _lastDelivered)
        {
            // The append's answer may come before the bus brings the message (or instead of it, if the publish
            // was lost): it is the same message, so deliver it from here.
            Arrive(request.ToMessage(result.Seq));
        }

        if (result.Seq <= _lastDelivered)
        {
            sender.Send(new AckEvent(request.Ref, Name, result.Seq));
        }
        else
        {
            // A resent ref whose first copy is not delivered here yet: ack once it is.
            (_pendingAcks ??= new()).Enqueue((sender, request.Ref), result.Seq);
        }

        if (_appending == 0 && _early is { Count: > 0 })
        {
            StartFill();
        }
    }

    /// <summary>
    /// Resends of a ref wait for the first copy's seq; the store refused that seq, and it will be given to another
    /// message, so they hear the refusal instead of an ack for someone else's message.
    /// </summary>
    private void RefuseWaiters(long seq, ErrorEvent error)
    {
        if (_pendingAcks is not { Count: > 0 } pending)
        {
            return;
        }

        var kept = new PriorityQueue<(ChatConnection Sender, string? Ref), long>();
        while (pending.TryDequeue(out var waiter, out long waitedSeq))
        {
            if (waitedSeq == seq)
            {
                waiter.Sender.Send(error);
            }
            else
            {
                kept.Enqueue(waiter, waitedSeq);
            }
        }

        _pendingAcks = kept;
    }

    /// <summary>Delivers in seq order; a message past a gap waits while the gap is read from the log.</summary>
    private void Arrive(ChatMessage message)
    {
        if (message.Seq <= _lastDelivered)
        {
            return;
        }

        if (message.Seq == _lastDelivered + 1)
        {
            Deliver(message);
            DeliverHeld();
            return;
        }

        var early = _early ??= new SortedDictionary<long, ChatMessage>();
        early.TryAdd(message.Seq, message);
        // Answers to this node's own appends come back in any order and close most gaps by themselves; the log
        // is read only for a gap that is left once they are all in (or that holds back too much meanwhile).
        if (_appending == 0 || early.Count >= MaxHeldBeforeFill)
        {
            StartFill();
        }
    }

    private void DeliverHeld()
    {
        while (_early is { Count: > 0 } early)
        {
            var (seq, message) = early.First();
            if (seq > _lastDelivered + 1)
            {
                return;
            }

            early.Remove(seq);
            if (seq == _lastDelivered + 1)
            {
                Deliver(message);
            }
        }
    }

    private void Deliver(ChatMessage message)
    {
        SendPresenceBatch();
        _recent.Add(message);
        Volatile.Write(ref _lastDelivered, message.Seq);
        // The log has committed it by now: the delivery-latency histogram runs from here to each member's write.
        _services.Metrics.MessagesOutAdd(Broadcast(new MessageEvent(message), except: null, Stopwatch.GetTimestamp()));
        while (_pendingAcks is not null && _pendingAcks.TryPeek(out var waiter, out long seq) && seq <= message.Seq)
        {
            _pendingAcks.Dequeue();
            waiter.Sender.Send(new AckEvent(waiter.Ref, Name, seq));
        }
    }

    private void StartFill()
    {
        if (_filling)
        {
            return;
        }

        _filling = true;
        long heldUpTo = _early is { Count: > 0 } early ? early.Keys.Max() : 0;
        _ = ReadGapAsync(_lastDelivered, heldUpTo);
    }

    private async Task ReadGapAsync(long after, long heldUpTo)
    {
        IReadOnlyList<ChatMessage>? messages = null;
        try
        {
            messages = await _services.Log.ReadAfterAsync(Name, after, FillBatch, CancellationToken.None);
        }
        catch (Exception e)
        {
            LogGapReadFailed(_services.Logger, e, Name, after);
        }

        _mailbox.Writer.TryWrite(new GapRead(after, heldUpTo, messages));
    }

    private void OnGapRead(GapRead read)
    {
        _filling = false;
        if (read.Messages is not { } messages)
        {
            // The log cannot be read now; the bus's resume (or the next message) tries again.
            if (_early is { Count: > 0 })
            {
                _ = RetryFillLaterAsync();
            }

            return;
        }

        if (messages.Count > 0 && messages[0].Seq > read.After + 1 && messages[0].Seq > _lastDelivered + 1)
        {
            // The log no longer keeps what lay before its oldest message (trimmed past the window, or lost with
            // Redis's data): delivery goes on from there.
            SkipTo(messages[0].Seq - 1);
        }

        foreach (var message in messages)
        {
            Arrive(message);
        }

        DeliverHeld();
        if (_early is { Count: > 0 } early)
        {
            long firstHeld = early.Keys.First();
            if (messages.Count < FillBatch && firstHeld <= read.HeldUpTo)
            {
                // The read began after that message was stored (every seq below a stored one is stored), so what
                // it did not find before it is gone from the log.
                SkipTo(firstHeld - 1);
                DeliverHeld();
            }
            else
            {
                // More to read, or the held message came after the read began: read again.
                StartFill();
            }
        }
    }

    private async Task RetryFillLaterAsync()
    {
        await Task.Delay(TimeSpan.FromMilliseconds(500), _services.Clock);
        _mailbox.Writer.TryWrite(CatchUp.Instance);
    }

    private void SkipTo(long seq)
    {
        LogGapSkipped(_services.Logger, Name, _lastDelivered, seq);
        _recent = new MessageWindow(_window);
        Volatile.Write(ref _lastDelivered, seq);
    }

    private void Join(JoinRoom join)
    {
        var member = join.Member;
        bool wasMember = _members.Contains(member) || _joining.ContainsKey(member);
        Task<IReadOnlyList<string>> members;
        if (wasMember)
        {
            members = _services.Membership.MembersAsync(Name, CancellationToken.None);
        }
        else
        {
            _joining[member] = false;
            _membershipNames[member] = join.Name;
            members = JoinMembershipAsync(member, join.Name);
        }

        _inFlight++;
        if (members.IsCompletedSuccessfully)
        {
            CompleteJoin(new JoinCompleted(join, members.Result, wasMember));
        }
        else
        {
            _ = AwaitJoinAsync(join, members, wasMember);
        }
    }

    private async Task<IReadOnlyList<string>> JoinMembershipAsync(ChatConnection member, string name) =>
        (await _services.Membership.JoinAsync(Name, name, member.Id, CancellationToken.None)).Members;

    private async Task AwaitJoinAsync(JoinRoom join, Task<IReadOnlyList<string>> members, bool wasMember)
    {
        IReadOnlyList<string>? result = null;
        try
        {
            result = await members;
        }
        catch (Exception e)
        {
            LogMembershipFailed(_services.Logger, e, Name);
        }

        _mailbox.Writer.TryWrite(new JoinCompleted(join, result, wasMember));
    }

    private void CompleteJoin(JoinCompleted completed)
    {
        _inFlight--;
        var member = completed.Join.Member;
        IReadOnlyList<string>? members = completed.Members;
        bool sorted = _services.Membership.ListsSorted;
        if (!completed.WasMember && _joining.Remove(member, out bool leftMeanwhile))
        {
            string? renamed = null;
            _renamesAfterJoin?.Remove(member, out renamed);
            if (members is null)
            {
                _membershipNames.Remove(member);
                member.Send(new ErrorEvent(ErrorCodes.Unavailable, $"{Name} cannot be joined now; try again", null));
                return;
            }

            if (leftMeanwhile)
            {
                ChangeMembership(_services.Membership.LeaveAsync(Name, TakeMembershipName(member), member.Id, CancellationToken.None));
                return;
            }

            if (renamed is not null)
            {
                string joinedAs = _membershipNames[member];
                _membershipNames[member] = renamed;
                ChangeMembership(_services.Membership.RenameAsync(Name, joinedAs, renamed, member.Id, CancellationToken.None));
                // The list was read with the join; the member already goes by its new name (its nick was answered).
                members = [.. members.Where(n => !string.Equals(n, joinedAs, StringComparison.OrdinalIgnoreCase) && !string.Equals(n, renamed, StringComparison.OrdinalIgnoreCase)).Append(renamed)];
                sorted = false;
            }
        }
        else if (members is null)
        {
            member.Send(new ErrorEvent(ErrorCodes.Unavailable, $"{Name} cannot be joined now; try again", null));
            return;
        }

        if (_members.Add(member))
        {
            _memberCount = _members.Count;
            // A newcomer also gets the batch gathering now, though some of it came before its joined list: every
            // change sets a name present or absent, so replaying ones the list already holds changes nothing.
            _batchMembers += member.PresenceBatches ? 1 : 0;
        }

        var join = completed.Join;
        ChatMessage[] history;
        bool truncated = false;
        if (join.Since > _lastDelivered)
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
            long firstKept = _recent.Count == 0 ? _lastDelivered + 1 : _recent.OldestSeq;
            truncated = since + 1 < firstKept && since < _lastDelivered;
        }
        else
        {
            history = _recent.Newest(DefaultJoinHistory);
        }

        // A join storm on a room of 100 made checking the order of the local membership's list, sorted already,
        // about 2 % of the server's CPU per connect (docs/performance.md, "Connect rate: whose CPU").
        member.Send(new JoinedEvent(Name, sorted ? members : Sorted(members), history, truncated));
    }

    private void Leave(LeaveRoom leave)
    {
        var member = leave.Member;
        if (_joining.ContainsKey(member))
        {
            // The membership still works on the join; the leave follows once it answers.
            _joining[member] = true;
            if (leave.Reply)
            {
                member.Send(new LeftEvent(Name));
            }

            return;
        }

        if (!_members.Remove(member))
        {
            if (leave.Reply)
            {
                member.Send(new ErrorEvent(ErrorCodes.NotInRoom, $"you are not in {Name}", null));
            }

            return;
        }

        _memberCount = _members.Count;
        if (member.PresenceBatches && --_batchMembers == 0)
        {
            _presenceBatch.Clear(); // nobody is left to tell
        }

        if (leave.Reply)
        {
            member.Send(new LeftEvent(Name));
        }

        ChangeMembership(_services.Membership.LeaveAsync(Name, TakeMembershipName(member), member.Id, CancellationToken.None));
    }

    private string TakeMembershipName(ChatConnection member) =>
        _membershipNames.Remove(member, out string? name) ? name : member.Name;

    private void Rename(RenameInRoom rename)
    {
        var member = rename.Member;
        if (!_membershipNames.TryGetValue(member, out string? current))
        {
            return;
        }

        if (_joining.ContainsKey(member))
        {
            // The membership still works on the join, made under the name the member had then; the rename follows
            // once it answers. Several renames meanwhile make one, to the last name.
            string latest = _renamesAfterJoin?.GetValueOrDefault(member) ?? current;
            if (string.Equals(latest, rename.OldName, StringComparison.OrdinalIgnoreCase))
            {
                (_renamesAfterJoin ??= [])[member] = rename.NewName;
            }

            return;
        }

        if (_members.Contains(member) && string.Equals(current, rename.OldName, StringComparison.OrdinalIgnoreCase))
        {
            _membershipNames[member] = rename.NewName;
            ChangeMembership(_services.Membership.RenameAsync(Name, rename.OldName, rename.NewName, member.Id, CancellationToken.None));
        }
    }

    /// <summary>Waits (off the loop) for a membership change; the room stays until it is settled.</summary>
    private void ChangeMembership(Task<MembershipResult> change)
    {
        if (change.IsCompleted)
        {
            if (change.IsFaulted)
            {
                LogMembershipFailed(_services.Logger, change.Exception, Name);
            }

            return;
        }

        _inFlight++;
        _ = SettleAsync(change);
    }

    private async Task SettleAsync(Task<MembershipResult> change)
    {
        try
        {
            await change;
        }
        catch (Exception e)
        {
            LogMembershipFailed(_services.Logger, e, Name);
        }

        _mailbox.Writer.TryWrite(MembershipSettled.Instance);
    }

    private void OnPresence(PresenceChange change)
    {
        if (_members.Count > _batchMembers)
        {
            // Members that did not ask for batches get each change at once, as always, except the one who made it.
            bool fromHere = change.Node == _services.Node.Id;
            var frame = new BroadcastFrame(new PresenceEvent(Name, change.Name, change.Kind, change.To, change.Members));
            int sent = 0;
            foreach (var member in _members)
            {
                if (!member.PresenceBatches && !(fromHere && member.Id == change.ConnectionId) && member.TrySendFrame(frame.For(member.Format)))
                {
                    sent++;
                }
            }

            _services.Metrics.PresenceFramesAdd(sent);
        }

        if (_batchMembers == 0)
        {
            return;
        }

        _presenceBatch.Add(change.Kind, change.Name, change.To, change.Members);
        if (_presenceBatch.Count >= _services.Options.Presence.MaxBatchChanges)
        {
            SendPresenceBatch();
        }
        else if (!_presenceBatch.TickScheduled)
        {
            _presenceBatch.TickScheduled = true;
            _ = TickLaterAsync();
        }
    }

    private async Task TickLaterAsync()
    {
        await Task.Delay(_services.Options.Presence.BatchInterval, _services.Clock);
        // Fails once the actor has retired: it had no members left to tell.
        _mailbox.Writer.TryWrite(PresenceTick.Instance);
    }

    /// <summary>Sends what the batch gathered to every member that takes batches, encoded once per format.</summary>
    private void SendPresenceBatch()
    {
        if (_presenceBatch.Count == 0)
        {
            return;
        }

        var frame = new BroadcastFrame(_presenceBatch.Take(Name));
        int sent = 0;
        foreach (var member in _members)
        {
            if (member.PresenceBatches && member.TrySendFrame(frame.For(member.Format)))
            {
                sent++;
            }
        }

        _services.Metrics.PresenceFramesAdd(sent);
    }

    private void SendHistory(HistoryOfRoom request)
    {
        long before = request.Before ?? long.MaxValue;
        request.Asker.Send(new HistoryEvent(Name, _recent.Before(before, request.Limit)));
    }

    /// <summary>Queues one event to every member but <paramref name="except"/>; returns how many got it.</summary>
    private int Broadcast(ServerEvent serverEvent, ChatConnection? except, long committedAt = 0)
    {
        var frame = new BroadcastFrame(serverEvent);
        int delivered = 0;
        foreach (var member in _members)
        {
            if (!ReferenceEquals(member, except) && member.TrySendFrame(frame.For(member.Format), committedAt))
            {
                delivered++;
            }
        }

        return delivered;
    }

    private static IReadOnlyList<string> Sorted(IReadOnlyList<string> names)
    {
        // A cluster's list arrives unsorted; a local one that a rename rebuilt, too.
        for (int i = 1; i < names.Count; i++)
        {
            if (StringComparer.OrdinalIgnoreCase.Compare(names[i - 1], names[i]) > 0)
            {
                var sorted = names.ToArray();
                Array.Sort(sorted, StringComparer.OrdinalIgnoreCase);
                return sorted;
            }
        }

        return names;
    }

    /// <summary>
    /// A room with no local member and nothing in flight is forgotten here (and unsubscribed), so rooms joined
    /// once and left do not pile up; its history stays in the log, and its seq continues when it is next used. It
    /// retires only with no posted command waiting, under the same lock as every post: a command that raced in is
    /// handled here first, and once retired the actor accepts nothing more, so every later command goes to the
    /// next incarnation in the order it was sent. (Handing late commands on to the next incarnation instead could
    /// put a join there behind the leave that followed it: a ghost member.)
    /// </summary>
    private bool TryRetire()
    {
        if (_members.Count > 0 || _joining.Count > 0 || _inFlight > 0 || _filling)
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
            // Before leaving the registry: no successor can start (and load the room from the log) until then.
            _services.Log.Release(Name);
            _services.Registry.Remove(this);
        }

        _services.Bus.Unsubscribe(Name, this);
        _mailbox.Writer.TryComplete();
        return true;
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Room {Room}: {Command} failed")]
    private static partial void LogCommandFailed(ILogger logger, Exception exception, string room, string command);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Room {Room}: could not subscribe or load its history; requests waiting for it get unavailable")]
    private static partial void LogStartFailed(ILogger logger, Exception exception, string room);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Room {Room}: reading the log after #{After} failed")]
    private static partial void LogGapReadFailed(ILogger logger, Exception exception, string room, long after);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Room {Room}: the log no longer keeps #{From}..#{To}; delivery goes on after it")]
    private static partial void LogGapSkipped(ILogger logger, string room, long from, long to);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Room {Room}: a membership change failed")]
    private static partial void LogMembershipFailed(ILogger logger, Exception? exception, string room);
}
