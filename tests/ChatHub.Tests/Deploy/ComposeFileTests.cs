using System.Text.RegularExpressions;
using ChatHub.Tests.Infrastructure;
using YamlDotNet.RepresentationModel;

namespace ChatHub.Tests.Deploy;

/// <summary>
/// compose.yaml as docker-compose reads it (its <c>config</c> command validates against the Compose schema and
/// needs no container engine): the single node, and the cluster profile of Redis, two nodes and nginx wired to
/// the same deploy/nginx/chathub.conf that <c>NginxProxyTests</c> runs.
/// </summary>
public sealed partial class ComposeFileTests
{
    [Theory]
    [InlineData("")]
    [InlineData("cluster")]
    public async Task Docker_compose_accepts_the_file(string profile)
    {
        string[] profileArguments = profile.Length == 0 ? [] : ["--profile", profile];
        var result = await ComposeAsync([.. profileArguments, "config", "--quiet"]);

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Equal("", result.Output.Trim());
    }

    [Fact]
    public async Task The_single_node_service_runs_without_a_profile()
    {
        var services = await ServicesAsync();

        var chathub = Map(services, "chathub");
        Assert.False(chathub.Children.ContainsKey("profiles"));
        Assert.Contains(Volumes(chathub), volume => volume.Target == "/data");
    }

    [Fact]
    public async Task The_cluster_profile_is_redis_with_aof_two_nodes_and_nginx_in_front()
    {
        var services = await ServicesAsync("--profile", "cluster");

        var redis = Map(services, "redis");
        Assert.Equal(["cluster"], Sequence(redis, "profiles"));
        Assert.Contains("--appendonly yes", string.Join(' ', Sequence(redis, "command")), StringComparison.Ordinal);

        // The nodes are the services that talk to Redis.
        var nodes = services.Children
            .Where(pair => Environment((YamlMappingNode)pair.Value).TryGetValue("ChatHub__Redis", out _))
            .ToDictionary(pair => Scalar(pair.Key), pair => (YamlMappingNode)pair.Value);
        Assert.Equal(2, nodes.Count);
        foreach (var node in nodes.Values)
        {
            Assert.Equal(["cluster"], Sequence(node, "profiles"));
            Assert.Equal("redis:6379", Environment(node)["ChatHub__Redis"]);
            Assert.Equal("service_healthy", Scalar(Map(Map(node, "depends_on"), "redis")["condition"]));
        }

        var nginx = Map(services, "nginx");
        Assert.Equal(["cluster"], Sequence(nginx, "profiles"));
        Assert.StartsWith("nginx:", Scalar(nginx["image"]), StringComparison.Ordinal);

        // The official image renders /etc/nginx/templates/*.template with envsubst: the repository's file goes there.
        var mount = Assert.Single(Volumes(nginx));
        Assert.Equal(RepositoryRoot.File("deploy", "nginx", "chathub.conf"), mount.Source);
        Assert.Matches("^/etc/nginx/templates/[^/]+\\.template$", mount.Target);

        // It gives every placeholder of that file a value, and its upstreams are exactly the two nodes.
        var environment = Environment(nginx);
        var placeholders = Placeholder().Matches(File.ReadAllText(mount.Source)).Select(m => m.Groups[1].Value).ToHashSet();
        Assert.Equal(placeholders.Order(), environment.Keys.Order());
        var upstreams = environment.Where(pair => pair.Key.StartsWith("CHATHUB_NODE_", StringComparison.Ordinal)).Select(pair => pair.Value);
        Assert.Equal(nodes.Keys.Select(name => name + ":8080").Order(), upstreams.Order());
        foreach (string node in nodes.Keys)
        {
            Assert.Equal("service_healthy", Scalar(Map(Map(nginx, "depends_on"), node)["condition"]));
        }
    }

    private static Task<ToolProcess.Result> ComposeAsync(params string[] arguments) =>
        ToolProcess.RunAsync("docker-compose", RepositoryRoot.Path, ["--file", RepositoryRoot.File("compose.yaml"), .. arguments]);

    /// <summary>The <c>services</c> of the configuration as docker-compose resolves it (anchors, profiles, paths).</summary>
    private static async Task<YamlMappingNode> ServicesAsync(params string[] profile)
    {
        var result = await ComposeAsync([.. profile, "config"]);
        Assert.True(result.ExitCode == 0, result.Output);
        var yaml = new YamlStream();
        yaml.Load(new StringReader(result.Output));
        return Map((YamlMappingNode)yaml.Documents[0].RootNode, "services");
    }

    private static YamlMappingNode Map(YamlMappingNode node, string key) => (YamlMappingNode)node[key];

    private static string Scalar(YamlNode node) => ((YamlScalarNode)node).Value!;

    private static List<string> Sequence(YamlMappingNode node, string key) =>
        ((YamlSequenceNode)node[key]).Children.Select(Scalar).ToList();

    /// <summary>Mounts in either form docker-compose prints: <c>source:target[:mode]</c> or a mapping.</summary>
    private static List<(string Source, string Target)> Volumes(YamlMappingNode service) =>
        ((YamlSequenceNode)service["volumes"]).Children.Select(volume => volume is YamlMappingNode mapping
            ? (Scalar(mapping["source"]), Scalar(mapping["target"]))
            : (Scalar(volume).Split(':')[0], Scalar(volume).Split(':')[1])).ToList();

    private static Dictionary<string, string> Environment(YamlMappingNode service) =>
        service.Children.TryGetValue("environment", out var environment)
            ? ((YamlMappingNode)environment).Children.ToDictionary(pair => Scalar(pair.Key), pair => Scalar(pair.Value))
            : [];

    [GeneratedRegex(@"\$\{([A-Z][A-Z0-9_]*)\}")]
    private static partial Regex Placeholder();
}
