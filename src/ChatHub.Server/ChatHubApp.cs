using ChatHub.Server.Backplane;
using ChatHub.Server.Configuration;
using ChatHub.Server.Connections;
using ChatHub.Server.Connections.Listening;
using ChatHub.Server.Hosting;
using ChatHub.Server.Observability;
using ChatHub.Server.Security;
using ChatHub.Server.Rooms;
using ChatHub.Server.Storage;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace ChatHub.Server;

/// <summary>
/// Builds the ChatHub server. <c>Program</c> runs it; tests and load tests build it in-process with their own
/// arguments (e.g. <c>--urls=http://127.0.0.1:0</c>) and talk to it over real sockets.
/// </summary>
public static partial class ChatHubApp
{
    public static WebApplication Build(string[] args)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = args,
            // appsettings.json and the client ship beside the binary, wherever it is started from.
            ContentRootPath = AppContext.BaseDirectory,
        });

        builder.UseChatHubLogging();
        DefaultListenAddress.ApplyWhenUnconfigured(builder);
        var limits = builder.Configuration.GetSection($"{ChatHubOptions.SectionName}:Limits").Get<LimitsOptions>() ?? new LimitsOptions();
        long? openFiles = OpenFileLimit.RaiseToHardLimit();
        int openAtStart = OpenFileLimit.CountOpen() ?? 0;
        int connectionCap = OpenFileLimit.ConnectionCap(limits.MaxConnections, limits.FileDescriptorReserve, openFiles, openAtStart);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            // Kestrel's request limits from configuration (Kestrel:Limits:MaxRequestHeadersTotalSize, …); ChatHub's
            // listener reads the same options (head sizes, KeepAliveTimeout for silent sockets) and leaves every other
            // clock to Kestrel, so one setting bounds both accept paths.
            builder.Configuration.GetSection("Kestrel:Limits").Bind(kestrel.Limits);
            // Past the cap new connections are closed at once (by Kestrel, and by ChatHub's listener, which counts
            // the connections it serves itself too); the reserve keeps accept() itself possible.
            kestrel.Limits.MaxConcurrentConnections = connectionCap;
        });
        AddChatHubServices(builder.Services, builder.Configuration);
        if (builder.Configuration.GetValue($"{ChatHubOptions.SectionName}:Connections:AcceptOnTransport", defaultValue: true))
        {
            // Registered after Kestrel's socket transport, so Kestrel asks it first for every IP endpoint.
            builder.Services.AddSingleton<SocketHandshake>();
            builder.Services.AddSingleton<TlsPorts>();
            builder.Services.AddSingleton<IConnectionListenerFactory, ChatHubTransportFactory>();
        }

        var app = builder.Build();
        LogConnectionCap(app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("ChatHub.Server.Limits"),
            connectionCap, openFiles ?? -1, openAtStart, limits.FileDescriptorReserve);
        app.UseForwardedHeaders();
        app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = ClientFiles() });
        app.UseStaticFiles(new StaticFileOptions { FileProvider = ClientFiles() });
        app.Map("/ws", (HttpContext http, WebSocketEndpoint endpoint) => endpoint.HandleAsync(http));
        app.MapChatHubHttp();
        app.MapPrometheusScrapingEndpoint("/metrics");
        return app;
    }

    /// <summary>The address the server really listens on (after start), e.g. <c>http://127.0.0.1:41234/</c>.</summary>
    public static Uri GetBaseAddress(WebApplication app)
    {
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        return new Uri(addresses.First().TrimEnd('/') + "/");
    }

    private static void AddChatHubServices(IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ChatHubOptions>()
            .Bind(configuration.GetSection(ChatHubOptions.SectionName))
            .Validate(o => o.Limits.MessageBurst >= 1 && o.Limits.MaxTextBytes <= o.Limits.MaxFrameBytes,
                "ChatHub:Limits:MaxTextBytes must not exceed MaxFrameBytes")
            .Validate(o => o.Cluster.NodeTimeout >= TimeSpan.FromSeconds(1) && o.Cluster.OperationTimeout > TimeSpan.Zero
                    && o.Cluster.OperationTimeout < o.Cluster.NodeTimeout,
                "ChatHub:Cluster:NodeTimeout must be 1 s or more and OperationTimeout positive and shorter than it")
            .Validate(o => o.Storage.CommitRetryTimeout > TimeSpan.Zero, "ChatHub:Storage:CommitRetryTimeout must be positive")
            .Validate(o => o.Presence.BatchInterval >= TimeSpan.FromMilliseconds(1) && o.Presence.BatchInterval <= TimeSpan.FromSeconds(5),
                "ChatHub:Presence:BatchInterval must be from 1 ms to 5 s")
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<ChatHubOptions>, ChatHubOptionsValidator>();

        services.AddChatHubSecurity(configuration);
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<ChatMetrics>();
        services.AddSingleton<ServerLifecycle>();
        services.AddSingleton<IHistoryStore>(sp =>
            sp.GetRequiredService<IOptions<ChatHubOptions>>().Value.Storage.Provider switch
            {
                StorageProvider.Memory => ActivatorUtilities.CreateInstance<InMemoryHistoryStore>(sp),
                _ => ActivatorUtilities.CreateInstance<SqliteHistoryStore>(sp),
            });
        services.AddSingleton<NodeIdentity>();
        services.AddChatHubBackplane(configuration);
        services.AddSingleton<RoomRegistry>();
        services.AddSingleton<RoomList>();
        services.AddSingleton<DirectMessageRefs>();
        services.AddSingleton<ConnectionRegistry>();
        services.AddSingleton<RateLimitPolicy>();
        services.AddSingleton<ConnectionServices>();
        services.AddSingleton<RequestDispatcher>();
        services.AddSingleton<ConnectionRunner>();
        services.AddSingleton<WebSocketEndpoint>();

        // Stop order is the reverse of this: connections drain first, then the store commits what is left.
        services.AddHostedService<StoreLifetime>();
        services.AddChatHubBackplaneLifetime(configuration);
        services.AddHostedService<ConnectionDrainer>();
        services.AddHostedService<RateLimitReplenisher>();
        services.AddSingleton<MemoryReclaimer>();
        services.AddHostedService(sp => sp.GetRequiredService<MemoryReclaimer>());

        services.AddHealthChecks().AddCheck<ReadinessCheck>("ready", tags: [ReadinessCheck.Tag]);
        services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .ConfigureResource(resource => resource.AddService("chathub", serviceVersion: ServerInfo.Version))
            .AddMeter(ChatMetrics.MeterName)
            .AddPrometheusExporter());

        // A meter provider listens to every meter of that name in the process; where several servers share one
        // (tests, load tests), each exports only the instruments its own container's meter factory created.
        services.ConfigureOpenTelemetryMeterProvider((sp, builder) =>
        {
            var ownFactory = sp.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>();
            builder.AddView(instrument => ReferenceEquals(instrument.Meter.Scope, ownFactory) ? null : MetricStreamConfiguration.Drop);
        });
    }

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Accepting at most {MaxConnections} connections (open-files limit {OpenFiles}, {OpenAtStart} open at start, {Reserve} kept for files opened later)")]
    private static partial void LogConnectionCap(ILogger logger, int maxConnections, long openFiles, int openAtStart, int reserve);

    private static PhysicalFileProvider ClientFiles()
    {
        string path = Path.Combine(AppContext.BaseDirectory, "client");
        Directory.CreateDirectory(path);
        return new PhysicalFileProvider(path);
    }
}
