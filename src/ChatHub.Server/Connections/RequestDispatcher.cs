using System.Text;
using ChatHub.Server.Backplane;
using ChatHub.Server.Configuration;
using ChatHub.Server.Observability;
using ChatHub.Server.Protocol;
using ChatHub.Server.Rooms;
using ChatHub.Server.Security;
using Microsoft.Extensions.Options;

namespace ChatHub.Server.Connections;

/// <summary>
/// The protocol's request semantics: validates each request, answers what a connection can answer alone, and
/// posts the rest to room actors. Runs on the connection's read loop, so per-connection state needs no lock.
/// Every refusal is an <c>error</c> frame with the protocol's code; nothing here throws on bad input.
/// </summary>
internal sealed partial class RequestDispatcher(
    RoomRegistry rooms,
    RoomList roomList,
    IRoomMembership membership,
    INameDirectory names,
    DirectMessageRefs directMessageRefs,
    TokenValidator tokens,
    IOptions<ChatHubOptions> options,
    ChatMetrics metrics,
    TimeProvider clock,
    ILogger<RequestDispatcher> logger)
{
    public const int DefaultHistoryLimit = 50;
    public const int MaxHistoryLimit = 100;

    private readonly LimitsOptions _limits = options.Value.Limits;

    /// <summary>The welcome comes first, then the outcome of the name and rooms asked for in the query.</summary>
    public async Task OnConnectedAsync(ChatConnection connection, string? requestedName, IReadOnlyList<string> requestedRooms)
    {
        ErrorEvent? nameError = null;
        bool refused = false;
        if (connection.Identity is { } identity)
        {
            // The token says who this is; name= may only repeat it. Devices of one user share the name (SharesName).
            if (requestedName is not null && !string.Equals(requestedName, identity.Name, StringComparison.OrdinalIgnoreCase))
            {
                nameError = new ErrorEvent(ErrorCodes.InvalidName, $"your token names you {identity.Name}", null);
            }

            // Every connection of a token's user shares the name (SharesName), on any node, so only a connection
            // without a token can hold it against the user: a node without tokens in the same cluster. Then this
            // connection cannot be anybody, and is told so and closed. While the shared store is away the name is
            // kept on this node and claimed there when the store returns.
            connection.Name = identity.Name;
            if (await names.TryClaimAsync(identity.Name, connection) == ClaimOutcome.Taken)
            {
                LogNameHeldWithoutToken(logger, connection.Id, identity.Name);
                nameError = new ErrorEvent(ErrorCodes.NameTaken, $"{identity.Name} is held by a connection without a token on another node", null);
                refused = true;
            }
        }
        else if (requestedName is not null && !Identifiers.IsValidName(requestedName))
        {
            nameError = new ErrorEvent(ErrorCodes.InvalidName, NameRules(requestedName), null);
        }
        else if (requestedName is not null)
        {
            nameError = await names.TryClaimAsync(requestedName, connection) switch
            {
                ClaimOutcome.Claimed => null,
                ClaimOutcome.Taken => new ErrorEvent(ErrorCodes.NameTaken, $"{requestedName} is taken; you are a guest until you pick another with nick", null),
                _ => new ErrorEvent(ErrorCodes.Unavailable, $"{requestedName} could not be claimed now; you are a guest until you pick it again with nick", null),
            };
        }

        if (connection.Identity is null)
        {
            connection.Name = requestedName is not null && nameError is null ? requestedName : await names.ClaimGuestNameAsync(connection);
        }

        // The welcome waits for the query's rooms to answer their joins (each join holds the sends until its room
        // has handled it), so welcome and joined leave in one socket write: one send and one drain per connect
        // fewer (docs/performance.md, "Connect rate: whose CPU"). A room that is not running yet, or whose
        // membership answers later (a cluster's round trip), lets go at once, so the welcome never waits for a store.
        bool holding = requestedRooms.Count > 0;
        if (holding)
        {
            connection.HoldSends();
        }

        try
        {
            var limits = new WelcomeLimits(_limits.MaxTextBytes, _limits.MaxRoomsPerConnection, _limits.MessagesPerSecond);
            connection.Send(new WelcomeEvent(connection.Name, connection.Session, ServerInfo.ProductAndVersion, limits));
            if (nameError is not null)
            {
                connection.Send(nameError);
            }

            if (refused)
            {
                connection.BeginClose(CloseCodes.Abuse, "name held without a token"); // 1008, policy violation: nothing else to be
                return;
            }

            foreach (string room in requestedRooms)
            {
                Join(connection, new ClientRequest { Kind = RequestKind.Join, Room = room }, holdSends: true);
            }
        }
        finally
        {
            if (holding)
            {
                connection.ReleaseSends();
            }
        }
    }

    /// <summary>
    /// Handles one text frame. Completes at once except for a <c>nick</c> whose claim is a round trip (a cluster):
    /// the read loop waits for that, so what the connection sends after a nick sees the name it gave.
    /// </summary>
    public ValueTask OnFrame(ChatConnection connection, ReadOnlyMemory<byte> payload)
    {
        var decoded = connection.Format == WireFormat.Json
            ? JsonFrameCodec.Decode(payload.Span)
            : TextFrameCodec.Decode(payload.Span);
        // Every frame draws on the budget, even one that decodes to an error: nothing is free to repeat.
        if (!TakeRateToken(connection, decoded.Request?.Kind, decoded.Request?.Ref ?? decoded.Error?.Ref))
        {
            return default;
        }

        if (decoded.Error is not null)
        {
            connection.Send(decoded.Error);
            return default;
        }

        return decoded.Request is not null ? Dispatch(connection, decoded.Request) : default;
    }

    /// <summary>Leaves every room (telling the others) and frees the name.</summary>
    public void OnDisconnected(ChatConnection connection)
    {
        foreach (string room in connection.Rooms)
        {
            rooms.Post(room, new LeaveRoom(connection, reply: false), load: false, bounded: false);
        }

        connection.Rooms.Clear();
        names.Release(connection.Name, connection);
    }

    private ValueTask Dispatch(ChatConnection connection, ClientRequest request)
    {
        if (request.Ref is { Length: > Identifiers.MaxRefLength })
        {
            Fail(connection, request, ErrorCodes.BadRequest, $"ref is longer than {Identifiers.MaxRefLength} characters");
            return default;
        }

        switch (request.Kind)
        {
            case RequestKind.Nick: return Nick(connection, request);
            case RequestKind.Join: Join(connection, request); break;
            case RequestKind.Leave: Leave(connection, request); break;
            case RequestKind.Say: Say(connection, request); break;
            case RequestKind.Dm: DirectMessage(connection, request); break;
            case RequestKind.Who: Who(connection, request); break;
            case RequestKind.Rooms: Rooms(connection, request); break;
            case RequestKind.History: History(connection, request); break;
            case RequestKind.Ping: connection.Send(new PongEvent(request.Ref)); break;
            case RequestKind.Help: connection.Send(HelpEvent.Instance); break;
            case RequestKind.Quit: connection.BeginClose(CloseCodes.Normal, "bye"); break;
            case RequestKind.Auth: return Auth(connection, request);
            default: Fail(connection, request, ErrorCodes.UnknownType, "unknown type"); break;
        }

        return default;
    }

    private ValueTask Nick(ChatConnection connection, ClientRequest request)
    {
        string? wanted = request.Name;
        if (!Identifiers.IsValidName(wanted))
        {
            Fail(connection, request, ErrorCodes.InvalidName, NameRules(wanted));
            return default;
        }

        if (connection.Identity is { } identity && !string.Equals(wanted, identity.Name, StringComparison.OrdinalIgnoreCase))
        {
            Fail(connection, request, ErrorCodes.InvalidName, $"your token names you {identity.Name}; it cannot change");
            return default;
        }

        string old = connection.Name;
        if (string.Equals(old, wanted, StringComparison.OrdinalIgnoreCase))
        {
            Rename(connection, old, wanted!);
            return default;
        }

        // One node answers at once. A cluster's claim is a round trip, and the read loop waits for it rather than
        // reading on: a join read meanwhile would go to its room under the old name, and a rename finished off the
        // read loop would race it over Name and Rooms (and, after a disconnect, hold the new name for nobody).
        var claim = names.TryClaimAsync(wanted!, connection);
        if (claim.IsCompletedSuccessfully)
        {
            FinishNick(connection, request, old, wanted!, claim.Result);
            return default;
        }

        return FinishNickAsync(connection, request, old, wanted!, claim);
    }

    private async ValueTask FinishNickAsync(ChatConnection connection, ClientRequest request, string old, string wanted, ValueTask<ClaimOutcome> claim) =>
        FinishNick(connection, request, old, wanted, await claim);

    private void FinishNick(ChatConnection connection, ClientRequest request, string old, string wanted, ClaimOutcome outcome)
    {
        if (outcome != ClaimOutcome.Claimed)
        {
            Fail(connection, request, outcome == ClaimOutcome.Taken ? ErrorCodes.NameTaken : ErrorCodes.Unavailable,
                outcome == ClaimOutcome.Taken ? $"{wanted} is taken" : $"{wanted} could not be claimed now; try again");
            return;
        }

        Rename(connection, old, wanted);
        names.Release(old, connection);
    }

    private void Rename(ChatConnection connection, string old, string wanted)
    {
        connection.Name = wanted;
        foreach (string room in connection.Rooms)
        {
            rooms.Post(room, new RenameInRoom(connection, old, wanted), load: false, bounded: false);
        }

        connection.Send(new NickEvent(wanted, old));
    }

    private void Join(ChatConnection connection, ClientRequest request, bool holdSends = false)
    {
        string? room = request.Room;
        if (room is null)
        {
            Fail(connection, request, ErrorCodes.BadRequest, "join needs a room");
            return;
        }

        if (!Identifiers.IsValidRoom(room))
        {
            Fail(connection, request, ErrorCodes.InvalidRoom, RoomRules(room));
            return;
        }

        if (request.Since is < 0)
        {
            Fail(connection, request, ErrorCodes.BadRequest, "since must be a seq (0 or more)");
            return;
        }

        if (!connection.Rooms.Contains(room) && connection.Rooms.Count >= _limits.MaxRoomsPerConnection)
        {
            Fail(connection, request, ErrorCodes.TooManyRooms, $"at most {_limits.MaxRoomsPerConnection} rooms per connection");
            return;
        }

        if (connection.Identity is { } identity && !identity.MayJoin(room))
        {
            Fail(connection, request, ErrorCodes.Forbidden, $"your token does not let you join {room}");
            return;
        }

        // Joining a room twice is allowed: the reply is a fresh `joined`, which is how a client resumes with `since`.
        var join = new JoinRoom(connection, connection.Name, request.Since, holdSends);
        if (Posted(connection, request, room, rooms.Post(room, join)))
        {
            connection.Rooms.Add(room);
            connection.CurrentRoom = room;
        }
        else
        {
            join.ReleaseSends(); // no room will handle it
        }
    }

    private void Leave(ChatConnection connection, ClientRequest request)
    {
        if (ResolveRoom(connection, request) is not { } room)
        {
            return;
        }

        if (!connection.Rooms.Remove(room))
        {
            Fail(connection, request, ErrorCodes.NotInRoom, $"you are not in {room}");
            return;
        }

        if (connection.CurrentRoom == room)
        {
            connection.CurrentRoom = connection.Rooms.FirstOrDefault();
        }

        if (rooms.Post(room, new LeaveRoom(connection, reply: true), load: false, bounded: false) == PostResult.NotLoaded)
        {
            connection.Send(new LeftEvent(room)); // cannot happen while a member keeps its room loaded; answer anyway
        }
    }

    private void Say(ChatConnection connection, ClientRequest request)
    {
        if (ResolveRoom(connection, request) is not { } room || !CheckText(connection, request))
        {
            return;
        }

        if (!connection.Rooms.Contains(room))
        {
            Fail(connection, request, ErrorCodes.NotInRoom, $"join {room} first");
            return;
        }

        metrics.MessageIn();
        Posted(connection, request, room, rooms.Post(room, new SayInRoom(connection, connection.Name, request.Text!, request.Ref)));
    }

    private void DirectMessage(ChatConnection connection, ClientRequest request)
    {
        if (request.To is null)
        {
            Fail(connection, request, ErrorCodes.BadRequest, "dm needs to (a name)");
            return;
        }

        if (!CheckText(connection, request))
        {
            return;
        }

        if (!Identifiers.IsValidName(request.To))
        {
            Fail(connection, request, ErrorCodes.NoSuchUser, $"nobody is called {EchoedText.Shorten(request.To, 40)}");
            return;
        }

        metrics.MessageIn();
        // The name is read here, on the read loop: a cluster answers off it, and a nick read meanwhile must not
        // change whose ref is forgotten or which devices get the sender's copy.
        string sender = connection.Name;
        if (request.Ref is not null && !directMessageRefs.TryRecord(sender, request.Ref))
        {
            connection.Send(new AckEvent(request.Ref, null, null)); // a resend: delivered the first time
            return;
        }

        var dm = new DmEvent(sender, request.To, request.Text!, Timestamps.NowTruncated(clock));
        var sent = names.SendDirectAsync(dm);
        if (sent.IsCompletedSuccessfully)
        {
            FinishDirectMessage(connection, request, dm, sent.Result, failed: false);
        }
        else
        {
            _ = FinishDirectMessageAsync(connection, request, dm, sent);
        }
    }

    /// <summary>A DM whose delivery is a Redis round trip. Nobody awaits this task: every outcome is answered here.</summary>
    private async Task FinishDirectMessageAsync(ChatConnection connection, ClientRequest request, DmEvent dm, ValueTask<DirectDelivery> sent)
    {
        DirectDelivery delivery;
        try
        {
            delivery = await sent;
        }
        catch (Exception e)
        {
            LogBackplaneFailed(logger, e, request.Kind.ToString());
            FinishDirectMessage(connection, request, dm, DirectDelivery.Nobody, failed: true);
            return;
        }

        // Outside the try: a DM that was delivered is never answered `unavailable`.
        FinishDirectMessage(connection, request, dm, delivery, failed: false);
    }

    private void FinishDirectMessage(ChatConnection connection, ClientRequest request, DmEvent dm, DirectDelivery delivery, bool failed)
    {
        if (delivery.Queued == 0)
        {
            // Nobody has the name, or every connection of the recipient is going away (closing, or its outbox just
            // overflowed): nothing was delivered, so no ack, and the ref is forgotten so that a resend is delivered.
            if (request.Ref is not null)
            {
                directMessageRefs.Forget(dm.From, request.Ref);
            }

            if (failed)
            {
                Fail(connection, request, ErrorCodes.Unavailable, "the message could not be sent now; try again");
            }
            else if (delivery.Recipient is { } recipient)
            {
                Fail(connection, request, ErrorCodes.NoSuchUser, $"{recipient} is disconnecting; the message was not delivered");
            }
            else
            {
                Fail(connection, request, ErrorCodes.NoSuchUser, $"nobody is called {EchoedText.Shorten(dm.To, 40)}");
            }

            return;
        }

        // The sender sees its own DM, on each of its devices, as a chat app shows a sent message everywhere.
        var copy = new DmEvent(dm.From, delivery.Recipient!, dm.Text, dm.Timestamp);
        int delivered = delivery.Queued;
        foreach (var device in connection.SharesName ? names.FindLocal(dm.From) : [connection])
        {
            if (Array.IndexOf(delivery.Local, device) < 0 && device.Send(copy))
            {
                delivered++;
            }
        }

        metrics.MessagesOutAdd(delivered);
        connection.Send(new AckEvent(request.Ref, null, null));
    }

    /// <summary>
    /// A fresh token for the same user, before (or within the grace period after) the current one expires. Rooms the
    /// new token no longer lists are kept until left; only later joins are checked against it.
    /// </summary>
    private ValueTask Auth(ChatConnection connection, ClientRequest request)
    {
        if (!tokens.Enabled || connection.Identity is null)
        {
            Fail(connection, request, ErrorCodes.BadRequest, "this server does not use tokens");
            return default;
        }

        if (string.IsNullOrEmpty(request.Token))
        {
            Fail(connection, request, ErrorCodes.BadRequest, "auth needs a token");
            return default;
        }

        // Keys are in memory, so this normally completes at once. When it does not (keys being fetched), the read
        // loop waits for it like a nick's claim: the identity is per-connection state, and a join read right after
        // the auth must be checked against the renewed token.
        return new ValueTask(RenewAsync(connection, request.Token, request.Ref));
    }

    private async Task RenewAsync(ChatConnection connection, string token, string? reference)
    {
        UserIdentity? identity;
        string? error;
        try
        {
            (identity, error) = await tokens.ValidateAsync(token);
        }
        catch (Exception e)
        {
            // A failure must still be answered, not lost, and must not end the read loop.
            LogRenewFailed(logger, e, connection.Id);
            (identity, error) = (null, "the server could not check this token");
        }

        if (identity is null)
        {
            connection.Send(new ErrorEvent(ErrorCodes.InvalidToken, error!, reference));
        }
        else if (!string.Equals(identity.Name, connection.Identity?.Name, StringComparison.OrdinalIgnoreCase))
        {
            connection.Send(new ErrorEvent(ErrorCodes.InvalidToken, "the token is for another user", reference));
        }
        else
        {
            connection.Identity = identity;
            connection.Send(new AuthedEvent(identity.Expires.ToUnixTimeSeconds(), reference));
        }
    }

    private void Who(ChatConnection connection, ClientRequest request)
    {
        if (ResolveRoom(connection, request) is { } room)
        {
            _ = WhoAsync(connection, request, room);
        }
    }

    private async Task WhoAsync(ChatConnection connection, ClientRequest request, string room)
    {
        try
        {
            connection.Send(new MembersEvent(room, await membership.MembersAsync(room, CancellationToken.None)));
        }
        catch (Exception e)
        {
            LogBackplaneFailed(logger, e, request.Kind.ToString());
            Fail(connection, request, ErrorCodes.Unavailable, "members cannot be listed now; try again");
        }
    }

    /// <summary>
    /// One page of the room list. It reads the store (or Redis), so it runs off the read loop and its reply may
    /// overtake replies still to come from rooms (see docs/protocol-notes.md).
    /// </summary>
    private void Rooms(ChatConnection connection, ClientRequest request)
    {
        if (roomList.Check(request.After, request.Limit) is { } problem)
        {
            Fail(connection, request, request.After is not null && !Identifiers.IsValidRoom(request.After) ? ErrorCodes.InvalidRoom : ErrorCodes.BadRequest, problem);
            return;
        }

        _ = ListRoomsAsync(connection, request);
    }

    private async Task ListRoomsAsync(ChatConnection connection, ClientRequest request)
    {
        try
        {
            if (await roomList.TryReadAsync(request.After, request.Limit, CancellationToken.None) is { } page)
            {
                connection.Send(new RoomsEvent(page));
            }
            else
            {
                Fail(connection, request, ErrorCodes.ServerBusy, "too many room lists are being read; try again");
            }
        }
        catch (Exception e)
        {
            LogBackplaneFailed(logger, e, request.Kind.ToString());
            Fail(connection, request, ErrorCodes.Unavailable, "rooms cannot be listed now; try again");
        }
    }

    private void History(ChatConnection connection, ClientRequest request)
    {
        if (ResolveRoom(connection, request) is not { } room)
        {
            return;
        }

        int limit = request.Limit ?? DefaultHistoryLimit;
        if (limit is < 1 or > MaxHistoryLimit)
        {
            Fail(connection, request, ErrorCodes.BadRequest, $"limit must be 1 to {MaxHistoryLimit}");
            return;
        }

        if (request.Before is < 1)
        {
            Fail(connection, request, ErrorCodes.BadRequest, "before must be a seq (1 or more)");
            return;
        }

        Posted(connection, request, room, rooms.Post(room, new HistoryOfRoom(connection, request.Before, limit)));
    }

    /// <summary>True when the room took the command; otherwise answers the refusal and returns false.</summary>
    private bool Posted(ChatConnection connection, ClientRequest request, string room, PostResult result)
    {
        switch (result)
        {
            case PostResult.Posted:
                return true;
            case PostResult.TooManyRooms:
                Fail(connection, request, ErrorCodes.ServerBusy, $"the server holds as many rooms as it may ({_limits.MaxRooms}); try again later");
                return false;
            default:
                Fail(connection, request, ErrorCodes.ServerBusy, $"{room} has too many requests waiting; try again later");
                return false;
        }
    }

    /// <summary>The room a request names or, in the text format, the current room; null after sending the error.</summary>
    private string? ResolveRoom(ChatConnection connection, ClientRequest request)
    {
        string? room = request.Room ?? (connection.Format == WireFormat.Text ? connection.CurrentRoom : null);
        if (room is null)
        {
            if (connection.Format == WireFormat.Text)
            {
                Fail(connection, request, ErrorCodes.NotInRoom, "join a room first: /join ROOM");
            }
            else
            {
                Fail(connection, request, ErrorCodes.BadRequest, $"{request.Type} needs a room");
            }

            return null;
        }

        if (!Identifiers.IsValidRoom(room))
        {
            Fail(connection, request, ErrorCodes.InvalidRoom, RoomRules(room));
            return null;
        }

        return room;
    }

    private bool CheckText(ChatConnection connection, ClientRequest request)
    {
        if (string.IsNullOrEmpty(request.Text))
        {
            Fail(connection, request, ErrorCodes.BadRequest, $"{request.Type} needs a non-empty text");
            return false;
        }

        // Cheap upper bound first: most messages are far below the limit and need no exact count.
        if (request.Text.Length * 3 > _limits.MaxTextBytes && Encoding.UTF8.GetByteCount(request.Text) > _limits.MaxTextBytes)
        {
            Fail(connection, request, ErrorCodes.TooLarge, $"text is over {_limits.MaxTextBytes} bytes");
            return false;
        }

        return true;
    }

    private bool TakeRateToken(ChatConnection connection, RequestKind? kind, string? reference)
    {
        using var lease = connection.RateLimiter.AttemptAcquire(RequestCosts.Of(kind));
        if (lease.IsAcquired)
        {
            connection.CountAccepted();
            return true;
        }

        metrics.MessageDropped();
        connection.Send(new ErrorEvent(ErrorCodes.RateLimited,
            $"more than {_limits.MessagesPerSecond} messages a second (other requests count a half or a quarter); this one was dropped", reference));
        if (connection.CountRateLimited())
        {
            LogAbuse(logger, connection.Id, connection.Name);
            connection.BeginClose(CloseCodes.Abuse, "rate limit exceeded far beyond the burst");
        }

        return false;
    }


    private static void Fail(ChatConnection connection, ClientRequest request, string code, string message) =>
        connection.Send(new ErrorEvent(code, message, request.Ref));

    private static string NameRules(string? name) =>
        $"{EchoedText.Shorten(name ?? "", 40)} is not a valid name: 1 to {Identifiers.MaxNameLength} characters from A-Z a-z 0-9 _ - .";

    private static string RoomRules(string room) =>
        $"{EchoedText.Shorten(room, 40)} is not a valid room: 1 to {Identifiers.MaxRoomLength} characters from A-Z a-z 0-9 _ - .";

    [LoggerMessage(Level = LogLevel.Error, Message = "Connection {ConnectionId}: checking an auth token failed")]
    private static partial void LogRenewFailed(ILogger logger, Exception exception, long connectionId);
    [LoggerMessage(Level = LogLevel.Warning, Message = "A {Request} request failed in the shared store")]
    private static partial void LogBackplaneFailed(ILogger logger, Exception exception, string request);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Connection {ConnectionId}: its token's name {Name} is held by a connection without a token on another node; closing with 1008")]
    private static partial void LogNameHeldWithoutToken(ILogger logger, long connectionId, string name);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Connection {ConnectionId} ({Name}) ignores the rate limit: closing with 1008")]
    private static partial void LogAbuse(ILogger logger, long connectionId, string name);
}
