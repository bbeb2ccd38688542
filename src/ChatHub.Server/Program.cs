using ChatHub.Server;
using ChatHub.Server.Security;

// `ChatHub.Server token --sub NAME ...` issues a token with the configured secret instead of serving.
if (args is ["token", .. var tokenArgs])
{
    return TokenCommand.Run(tokenArgs, Console.Out, Console.Error);
}

var app = ChatHubApp.Build(args);
await app.RunAsync();
return 0;
