namespace ChatHub.Server.Protocol;

/// <summary>
/// What a codec made of one inbound frame: a request, an error to send back, or nothing at all
/// (an empty line typed at a terminal).
/// </summary>
public readonly record struct DecodeResult(ClientRequest? Request, ErrorEvent? Error)
{
    public static readonly DecodeResult Nothing = default;

    public static DecodeResult Ok(ClientRequest request) => new(request, null);

    public static DecodeResult Fail(string code, string message, string? reference = null) =>
        new(null, new ErrorEvent(code, message, reference));
}
