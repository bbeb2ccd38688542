namespace ChatHub.Server.Protocol;

/// <summary>
/// Validation of names and rooms: 1..32 (names) or 1..64 (rooms) characters from
/// <c>A-Z a-z 0-9 _ - .</c>. Checked by hand because a regex would allocate per call on a hot path.
/// </summary>
public static class Identifiers
{
    public const int MaxNameLength = 32;
    public const int MaxRoomLength = 64;
    public const int MaxRefLength = 64;

    public static bool IsValidName(string? value) => IsValid(value, MaxNameLength);

    public static bool IsValidRoom(string? value) => IsValid(value, MaxRoomLength);

    private static bool IsValid(string? value, int maxLength)
    {
        if (string.IsNullOrEmpty(value) || value.Length > maxLength)
        {
            return false;
        }

        foreach (char c in value)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.'))
            {
                return false;
            }
        }

        return true;
    }
}
