namespace ChatHub.Server.Connections.Sockets;

/// <summary>
/// Validates a text message's UTF-8 as its pieces arrive, a code point possibly split across pieces and frames.
/// It fails on exactly the byte where .NET's own WebSocket fails (the differential tests hold the two equal): a
/// misplaced continuation byte or an impossible lead byte at once, a surrogate or a code point past U+10FFFF as soon
/// as its bits show it, an overlong form when its last byte arrives, a sequence cut off by the end of the message.
/// </summary>
internal struct Utf8Progress
{
    private int _expected; // continuation bytes still expected by the code point in progress
    private int _bits;     // the bits of that code point decoded so far
    private int _minimum;  // the smallest code point its length may encode; less is overlong

    public bool TryAdvance(ReadOnlySpan<byte> bytes, bool endOfMessage)
    {
        int i = 0;
        while (i < bytes.Length)
        {
            if (_expected == 0)
            {
                byte lead = bytes[i++];
                if (lead < 0x80)
                {
                    continue;
                }

                if ((lead & 0xC0) == 0x80)
                {
                    return false;
                }

                (_expected, _bits, _minimum) = (lead & 0xE0) == 0xC0 ? (1, lead & 0x1F, 0x80)
                    : (lead & 0xF0) == 0xE0 ? (2, lead & 0x0F, 0x800)
                    : (lead & 0xF8) == 0xF0 ? (3, lead & 0x07, 0x10000)
                    : (-1, 0, 0);
                if (_expected < 0)
                {
                    _expected = 0;
                    return false;
                }
            }

            while (_expected > 0 && i < bytes.Length)
            {
                byte next = bytes[i];
                if ((next & 0xC0) != 0x80)
                {
                    return false;
                }

                i++;
                _expected--;
                _bits = (_bits << 6) | (next & 0x3F);
                if (_expected == 1 && _bits >= 0x360 && _bits <= 0x37F)
                {
                    return false; // U+D800..U+DFFF: a surrogate, never valid in UTF-8
                }

                if (_expected == 2 && _bits >= 0x110)
                {
                    return false; // past U+10FFFF
                }
            }

            if (_expected == 0 && _bits < _minimum)
            {
                return false;
            }

            if (_expected == 0)
            {
                _minimum = 0;
            }
        }

        return !(endOfMessage && _expected > 0);
    }
}
