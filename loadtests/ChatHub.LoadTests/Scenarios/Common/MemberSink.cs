using System.Net.WebSockets;
using ChatHub.LoadTests.Measurement;
using ChatHub.LoadTests.Net;
using ChatHub.LoadTests.Protocol;

namespace ChatHub.LoadTests.Scenarios.Common;

/// <summary>
/// A room member's receive side: learns its name from <c>welcome</c>, completes <see cref="Joined"/>
/// on <c>joined</c>, checks that the room's <c>seq</c> goes up by exactly one, and reports
/// <c>error</c> frames and unexpected closes as violations.
/// </summary>
internal abstract class MemberSink : IFrameSink
{
    private long _nextSeq = 1;

    protected MemberSink(string room, ViolationLog violations)
    {
        Room = room;
        Violations = violations;
    }

    public string Room { get; }

    public string? Name { get; private set; }

    protected ViolationLog Violations { get; }

    public TaskCompletionSource Joined { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource<WebSocketCloseStatus?> Closed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>
    /// Whether seq must go up by exactly one. True where the server promises one order per room (ChatHub, the
    /// single-threaded Node peer, or any server with one sender); SignalR sends concurrent says of a room in
    /// whichever order their invocations finish, so with several senders only the count is checked.
    /// </summary>
    public bool CheckSeqOrder { get; set; } = true;

    /// <summary>Set before closing on purpose, so the end of the socket is not a violation.</summary>
    public bool ExpectClose { get; set; }

    public long Received;

    public void OnFrame(ReadOnlySpan<byte> utf8, long receivedTimestamp)
    {
        // Nearly every frame a member gets is a message of its room: read those in place, the rest as objects.
        if (MessageFrameReader.TryRead(utf8, Room, out bool inRoom, out long? seq, out long? stamp))
        {
            if (inRoom)
            {
                OnRoomMessage(seq, stamp, receivedTimestamp);
            }
            return;
        }
        ServerFrame? frame = FrameCodec.Parse(utf8);
        if (frame?.Type is null)
        {
            Violations.Add($"{Name}: unparseable frame");
            return;
        }
        OnServerFrame(frame, receivedTimestamp);
    }

    public void OnServerFrame(ServerFrame frame, long receivedTimestamp)
    {
        switch (frame.Type)
        {
            case "welcome":
                Name = frame.Name;
                break;
            case "joined" when frame.Room == Room:
                // A fresh room: nothing in history. Anything there would shift the expected seq.
                if (frame.History is { Count: > 0 } history && history[^1].Seq is long last)
                {
                    _nextSeq = last + 1;
                }
                Joined.TrySetResult();
                break;
            case "message" when frame.Room == Room:
                OnRoomMessage(frame.Seq, LatencyStamp.TryRead(frame.Text, out long stamp) ? stamp : null, receivedTimestamp);
                break;
            case "error":
                Violations.Add($"{Name}: error {frame.Code}: {frame.Message}");
                OnError(frame);
                break;
        }
    }

    public void OnClosed(WebSocketCloseStatus? status, string? reason)
    {
        if (!ExpectClose)
        {
            Violations.Add($"{Name}: connection ended unexpectedly ({(status is null ? "no close frame" : ((int)status).ToString(System.Globalization.CultureInfo.InvariantCulture))}: {reason})");
        }
        Joined.TrySetException(new InvalidOperationException($"closed before joining: {status} {reason}"));
        Closed.TrySetResult(status);
    }

    private void OnRoomMessage(long? seq, long? stamp, long receivedTimestamp)
    {
        if (CheckSeqOrder && seq != _nextSeq)
        {
            Violations.Add($"{Name}: seq {seq} where {_nextSeq} was due in {Room}");
        }
        _nextSeq = (seq ?? _nextSeq) + 1;
        Interlocked.Increment(ref Received);
        OnMessage(stamp, receivedTimestamp);
    }

    /// <param name="stamp">The send time the text carries (<see cref="LatencyStamp"/>), if it carries one.</param>
    protected abstract void OnMessage(long? stamp, long receivedTimestamp);

    protected virtual void OnError(ServerFrame frame)
    {
    }
}
