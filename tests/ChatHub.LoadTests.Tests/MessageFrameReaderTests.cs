using System.Text;
using ChatHub.LoadTests.Protocol;

namespace ChatHub.LoadTests.Tests;

/// <summary>The members' in-place reading of message frames, and every case it leaves to the full parse.</summary>
public sealed class MessageFrameReaderTests
{
    [Fact]
    public void Reads_seq_and_stamp_of_a_message_in_its_room_whatever_the_field_order()
    {
        Assert.True(Read("""{"type":"message","room":"r1","seq":43,"from":"ann","text":"1234567 xxxx","ts":"2026-11-24T10:00:01.456Z"}""", "r1", out bool inRoom, out long? seq, out long? stamp));
        Assert.True(inRoom);
        Assert.Equal(43, seq);
        Assert.Equal(1234567, stamp);

        Assert.True(Read("""{"seq":7,"text":"99","ts":"x","from":"bob","room":"r1","type":"message","extra":true}""", "r1", out inRoom, out seq, out stamp));
        Assert.True(inRoom);
        Assert.Equal((7L, 99L), (seq!.Value, stamp!.Value));
    }

    [Fact]
    public void Another_room_is_read_but_not_in_room_and_a_text_without_stamp_has_none()
    {
        Assert.True(Read("""{"type":"message","room":"r10","seq":1,"from":"ann","text":"hello there"}""", "r1", out bool inRoom, out long? seq, out long? stamp));
        Assert.False(inRoom);
        Assert.Equal(1, seq);
        Assert.Null(stamp);
    }

    [Theory]
    [InlineData("""{"type":"welcome","name":"ann"}""")]
    [InlineData("""{"type":"joined","room":"r1","members":["ann"],"history":[]}""")]
    [InlineData("""{"type":"presence_batch","room":"r1","changes":[{"event":"join","name":"bob"}]}""")]
    [InlineData("""{"type":"message","room":"r\u0031","seq":1,"text":"5 x"}""")]
    [InlineData("""{"type":"message","room":"r1","seq":1,"text":"5 \"quoted\""}""")]
    [InlineData("""{"type":"message","room":"r1","seq":"1","text":"5"}""")]
    [InlineData("""{"type":"message","seq":1,"text":"5"}""")]
    [InlineData("""{"type":"message","room":"r1","seq":1,"text":"5"} {}""")]
    [InlineData("""{"type":"message","room":"r1","seq":1,"text":"5" """)]
    [InlineData("""["message"]""")]
    [InlineData("not json")]
    public void Anything_but_a_flat_unescaped_message_is_left_to_the_full_parse(string json)
    {
        Assert.False(Read(json, "r1", out _, out _, out _));
    }

    private static bool Read(string json, string room, out bool inRoom, out long? seq, out long? stamp) =>
        MessageFrameReader.TryRead(Encoding.UTF8.GetBytes(json), room, out inRoom, out seq, out stamp);
}
