namespace ChatHub.Server.Backplane.Redis;

internal static class RedisBackplane
{
    public static void Add(IServiceCollection services) => throw new NotImplementedException();
}
