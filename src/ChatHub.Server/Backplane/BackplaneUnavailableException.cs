namespace ChatHub.Server.Backplane;

/// <summary>The shared store did not answer in time; the request gets the <c>unavailable</c> error.</summary>
internal sealed class BackplaneUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
