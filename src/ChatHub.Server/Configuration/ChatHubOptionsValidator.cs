using Microsoft.Extensions.Options;

namespace ChatHub.Server.Configuration;

/// <summary>
/// Checks the data annotations of <see cref="ChatHubOptions"/> (and, through <c>[ValidateObjectMembers]</c>, of its
/// sections) with code generated at compile time: reflection-based <c>ValidateDataAnnotations</c> cannot be trimmed
/// and so does not work in the Native AOT binary.
/// </summary>
[OptionsValidator]
internal sealed partial class ChatHubOptionsValidator : IValidateOptions<ChatHubOptions>;
