using ChatHub.Server.Backplane.Local;
using ChatHub.Server.Configuration;

namespace ChatHub.Server.Backplane;

/// <summary>
/// Picks, once at start, how rooms, names and presence are shared: in process (one node, the default) or
/// through Redis (a cluster) when <c>ChatHub:Redis</c> is set.
/// </summary>
internal static class BackplaneServices
{
    public static void AddChatHubBackplane(this IServiceCollection services, IConfiguration configuration)
    {
        if (IsCluster(configuration))
        {
            Redis.RedisBackplane.Add(services);
            return;
        }

        services.AddSingleton<LocalRoomBus>();
        services.AddSingleton<LocalRoomLog>();
        services.AddSingleton<LocalRoomMembership>();
        services.AddSingleton<LocalNameDirectory>();
        services.AddSingleton<IRoomBus>(sp => sp.GetRequiredService<LocalRoomBus>());
        services.AddSingleton<IRoomLog>(sp => sp.GetRequiredService<LocalRoomLog>());
        services.AddSingleton<IRoomMembership>(sp => sp.GetRequiredService<LocalRoomMembership>());
        services.AddSingleton<INameDirectory>(sp => sp.GetRequiredService<LocalNameDirectory>());
    }

    /// <summary>A cluster node's heartbeat, after the store has connected (hosted services start in order).</summary>
    public static void AddChatHubBackplaneLifetime(this IServiceCollection services, IConfiguration configuration)
    {
        if (IsCluster(configuration))
        {
            services.AddHostedService<Redis.NodeHeartbeat>();
        }
    }

    private static bool IsCluster(IConfiguration configuration) =>
        !string.IsNullOrWhiteSpace(configuration[$"{ChatHubOptions.SectionName}:Redis"]);
}
