namespace ChatHub.Server.Protocol;

/// <summary>Client input quoted back in an error message, cut short so a huge value cannot make a huge reply.</summary>
public static class EchoedText
{
    public static string Shorten(string value, int maxLength) =>
        value.Length <= maxLength ? value : value[..maxLength] + "…";
}
