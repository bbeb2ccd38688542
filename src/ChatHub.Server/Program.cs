using ChatHub.Server;

var app = ChatHubApp.Build(args);
await app.RunAsync();
