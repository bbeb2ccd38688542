using Microsoft.Extensions.Options;

namespace ChatHub.Server.Security;

/// <summary>
/// The data annotations of <see cref="SecurityOptions"/> and its sections, checked by generated code (no reflection,
/// so the Native AOT binary checks them too).
/// </summary>
[OptionsValidator]
internal sealed partial class SecurityOptionsValidator : IValidateOptions<SecurityOptions>;
