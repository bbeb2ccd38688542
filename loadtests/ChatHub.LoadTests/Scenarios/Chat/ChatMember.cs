using ChatHub.LoadTests.Scenarios.Common;

namespace ChatHub.LoadTests.Scenarios.Chat;

/// <summary>A chat member's receive side: times steady-phase messages from their scheduled send time.</summary>
internal sealed class ChatMember(string room, ChatRun run) : MemberSink(room, run.Violations)
{
    protected override void OnMessage(long? stamp, long receivedTimestamp)
    {
        if (stamp is long scheduled && scheduled >= run.SteadyStart)
        {
            run.Latency.RecordTicks(receivedTimestamp - scheduled);
        }
        run.OnDelivered();
    }
}
