using ChatHub.Server.Rooms;

namespace ChatHub.Tests.Unit;

public sealed class RefDeduplicatorTests
{
    /// <summary>A clock the test moves by hand, so expiry is checked without waiting ten minutes.</summary>
    private sealed class ManualClock(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;
        public override DateTimeOffset GetUtcNow() => Now;
    }

    [Fact]
    public void Remembers_a_ref_per_name_without_case_for_ten_minutes()
    {
        var clock = new ManualClock(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var refs = new RefDeduplicator(clock);
        refs.Remember("Ann", "r1", 5, clock.Now);

        Assert.True(refs.TryGet("ann", "r1", out var entry));
        Assert.Equal(5, entry.Seq);
        Assert.False(refs.TryGet("ann", "R1", out _)); // refs are exact
        Assert.False(refs.TryGet("bob", "r1", out _));

        clock.Now += TimeSpan.FromMinutes(9);
        Assert.True(refs.TryGet("ann", "r1", out _));
        clock.Now += TimeSpan.FromMinutes(1);
        Assert.False(refs.TryGet("ann", "r1", out _));
    }

    [Fact]
    public void A_ref_said_again_after_expiry_lives_its_own_ten_minutes()
    {
        var clock = new ManualClock(DateTimeOffset.UnixEpoch);
        var refs = new RefDeduplicator(clock);
        refs.Remember("ann", "r", 1, clock.Now);
        clock.Now += TimeSpan.FromMinutes(10);
        Assert.False(refs.TryGet("ann", "r", out _));
        refs.Remember("ann", "r", 2, clock.Now);
        clock.Now += TimeSpan.FromMinutes(5);
        Assert.True(refs.TryGet("ann", "r", out var entry));
        Assert.Equal(2, entry.Seq);
    }
}
