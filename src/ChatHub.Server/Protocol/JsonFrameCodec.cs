using System.Buffers;
using System.Text.Json;

namespace ChatHub.Server.Protocol;

/// <summary>The JSON format: one object per text frame, serialized by the source-generated <see cref="ChatJsonContext"/>.</summary>
public static class JsonFrameCodec
{
    public static DecodeResult Decode(ReadOnlySpan<byte> payload)
    {
        ClientRequest? request;
        try
        {
            request = JsonSerializer.Deserialize(payload, ChatJsonContext.Default.ClientRequest);
        }
        catch (JsonException e)
        {
            // Not JSON, not an object, or a field of the wrong type: all are bad_request.
            return DecodeResult.Fail(ErrorCodes.BadRequest, e.Path is { Length: > 1 } path
                ? $"field {path.TrimStart('$', '.')} has the wrong type or the JSON is malformed"
                : "expected one JSON object with a string field \"type\"");
        }

        if (request is null)
        {
            return DecodeResult.Fail(ErrorCodes.BadRequest, "expected one JSON object with a string field \"type\"");
        }

        if (request.Type is null)
        {
            return DecodeResult.Fail(ErrorCodes.BadRequest, "missing field \"type\"", request.Ref);
        }

        request.Kind = RequestKinds.FromJsonType(request.Type);
        return request.Kind == RequestKind.Unknown
            ? DecodeResult.Fail(ErrorCodes.UnknownType, $"unknown type \"{EchoedText.Shorten(request.Type, 32)}\"", request.Ref)
            : DecodeResult.Ok(request);
    }

    public static byte[] Encode(ServerEvent serverEvent)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            Write(writer, serverEvent);
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static void Write(Utf8JsonWriter writer, ServerEvent serverEvent)
    {
        var context = ChatJsonContext.Default;
        switch (serverEvent)
        {
            case MessageEvent m: ChatMessageJsonConverter.WriteMessage(writer, m.Message); break;
            case PresenceEvent e: JsonSerializer.Serialize(writer, e, context.PresenceEvent); break;
            case PresenceBatchEvent e: JsonSerializer.Serialize(writer, e, context.PresenceBatchEvent); break;
            case AckEvent e: JsonSerializer.Serialize(writer, e, context.AckEvent); break;
            case DmEvent e: JsonSerializer.Serialize(writer, e, context.DmEvent); break;
            case JoinedEvent e: JsonSerializer.Serialize(writer, e, context.JoinedEvent); break;
            case LeftEvent e: JsonSerializer.Serialize(writer, e, context.LeftEvent); break;
            case WelcomeEvent e: JsonSerializer.Serialize(writer, e, context.WelcomeEvent); break;
            case MembersEvent e: JsonSerializer.Serialize(writer, e, context.MembersEvent); break;
            case RoomsEvent e: JsonSerializer.Serialize(writer, e, context.RoomsEvent); break;
            case HistoryEvent e: JsonSerializer.Serialize(writer, e, context.HistoryEvent); break;
            case NickEvent e: JsonSerializer.Serialize(writer, e, context.NickEvent); break;
            case PongEvent e: JsonSerializer.Serialize(writer, e, context.PongEvent); break;
            case ErrorEvent e: JsonSerializer.Serialize(writer, e, context.ErrorEvent); break;
            case AuthedEvent e: JsonSerializer.Serialize(writer, e, context.AuthedEvent); break;
            default: throw new ArgumentOutOfRangeException(nameof(serverEvent), serverEvent.Type, "no JSON form");
        }
    }
}
