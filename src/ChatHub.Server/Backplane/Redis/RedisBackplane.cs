namespace ChatHub.Server.Backplane.Redis;

/// <summary>The cluster's services: one <see cref="RedisShards"/> shared by the log, bus, membership and names.</summary>
internal static class RedisBackplane
{
    public static void Add(IServiceCollection services)
    {
        services.AddSingleton<RedisShards>();
        services.AddSingleton<RedisRoomLog>();
        services.AddSingleton<RedisRoomBus>();
        services.AddSingleton<RedisRoomMembership>();
        services.AddSingleton<RedisNameDirectory>();
        services.AddSingleton<IRoomLog>(sp => sp.GetRequiredService<RedisRoomLog>());
        services.AddSingleton<IRoomBus>(sp => sp.GetRequiredService<RedisRoomBus>());
        services.AddSingleton<IRoomMembership>(sp => sp.GetRequiredService<RedisRoomMembership>());
        services.AddSingleton<INameDirectory>(sp => sp.GetRequiredService<RedisNameDirectory>());
    }
}
