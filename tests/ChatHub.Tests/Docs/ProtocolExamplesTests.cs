using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using ChatHub.Tests.Infrastructure;

namespace ChatHub.Tests.Docs;

/// <summary>
/// The JSON examples of docs/protocol.md against the real server: every documented request is sent as written,
/// and every documented reply or event must match what the server sends in type, fields and kinds of values
/// (names, seqs, times and session ids naturally differ).
/// </summary>
public sealed partial class ProtocolExamplesTests : IAsyncLifetime
{
    private static readonly string Document = File.ReadAllText(RepositoryRoot.File("docs", "protocol.md"));

    private TestServer _server = null!;

    public async Task InitializeAsync() => _server = await TestServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Each_documented_request_gets_the_documented_replies()
    {
        var lines = ExampleLines(Section("### Requests"));
        Assert.Contains(lines, line => line.Direction == '→');

        // The session the examples assume: bob is in lobby (and dev) and has said something there.
        await using var bob = await _server.ConnectJsonAsync("name=bob&room=lobby&room=dev");
        await bob.ExpectAsync("welcome");
        await bob.WaitForAsync("joined", f => (string?)f["room"] == "dev");
        await bob.SendJsonAsync(new { type = "say", room = "lobby", text = "hey", @ref = "b-1" });
        await bob.WaitForAsync("ack");
        await bob.SendJsonAsync(new { type = "say", room = "lobby", text = "hi", @ref = "b-2" });
        await bob.WaitForAsync("ack");

        await using var ann = await _server.ConnectJsonAsync("name=ann");
        await ann.ExpectAsync("welcome");
        foreach (var (direction, json) in lines)
        {
            if (direction == '→')
            {
                await ann.SendTextAsync(json);
            }
            else
            {
                AssertSameShape(JsonNode.Parse(json)!, await ann.NextAsync());
            }
        }
    }

    [Fact]
    public async Task Each_documented_event_looks_like_the_real_one()
    {
        var examples = ExampleLines(Section("### Replies and events")).Select(line => JsonNode.Parse(line.Json)!.AsObject()).ToList();
        Assert.NotEmpty(examples);

        // Every kind of event, as ann sees it while carol comes, renames, speaks, writes to her and goes.
        var seen = new List<JsonObject>();
        await using var ann = await _server.ConnectJsonAsync("name=ann&room=lobby");
        seen.Add(await ann.ExpectAsync("welcome"));
        await ann.ExpectAsync("joined");
        await using (var carol = await _server.ConnectJsonAsync("name=carol&room=lobby"))
        {
            seen.Add(await ann.ExpectAsync("presence"));
            await carol.SendJsonAsync(new { type = "nick", name = "caroline" });
            seen.Add(await ann.ExpectAsync("presence"));
            await carol.SendJsonAsync(new { type = "say", room = "lobby", text = "bye all" });
            seen.Add(await ann.ExpectAsync("message"));
            await carol.SendJsonAsync(new { type = "dm", to = "ann", text = "see you" });
            seen.Add(await ann.ExpectAsync("dm"));
            await carol.SendJsonAsync(new { type = "leave", room = "lobby" });
            seen.Add(await ann.ExpectAsync("presence"));
        }

        foreach (var example in examples)
        {
            string key = Kind(example);
            var real = seen.FirstOrDefault(frame => Kind(frame) == key);
            Assert.True(real is not null, $"the test produced no {key} to compare {example.ToJsonString()} with");
            AssertSameShape(example, real!);
        }
    }

    [Fact]
    public async Task The_presence_batch_example_looks_like_the_real_one()
    {
        var example = JsonNode.Parse(ExampleLines(Section("### Presence batches")).Single().Json)!.AsObject();

        // The example's changes: carol joins and renames, dave leaves, all within one (long) tick; a message sends it.
        await using var server = await TestServer.StartAsync("Presence:BatchInterval=00:00:05");
        await using var dave = await server.JoinedJsonAsync("name=dave&room=lobby");
        await using var ann = await server.JoinedJsonAsync("name=ann&room=lobby&presence=batch");
        await using var carol = await server.JoinedJsonAsync("name=carol&room=lobby");
        await carol.SendJsonAsync(new { type = "nick", name = "caroline" });
        await carol.WaitForAsync("nick");
        await dave.SendJsonAsync(new { type = "leave", room = "lobby" });
        await dave.WaitForAsync("left");
        await carol.SendJsonAsync(new { type = "say", room = "lobby", text = "hi" });

        var real = await ann.ExpectAsync("presence_batch");
        // Compare from carol's join on, as the example starts there (ann's batch also holds her own join first).
        var changes = real["changes"]!.AsArray().Select(c => c!.DeepClone()).Skip(1).ToArray();
        real["changes"] = new JsonArray(changes);
        AssertSameShape(example, real);
        var exampleChanges = example["changes"]!.AsArray();
        Assert.Equal(exampleChanges.Count, changes.Length);
        for (int i = 0; i < changes.Length; i++)
        {
            AssertSameShape(exampleChanges[i]!, changes[i]);
        }
    }

    /// <summary>Same JSON kinds and the same field names all the way down; the values that name a kind must match.</summary>
    private static void AssertSameShape(JsonNode documented, JsonNode? real, string path = "$")
    {
        Assert.True(real is not null, $"{path}: documented {documented.ToJsonString()}, the server sent null");
        Assert.True(documented.GetValueKind() == real!.GetValueKind() || IsBoolean(documented) && IsBoolean(real),
            $"{path}: documented {documented.ToJsonString()}, the server sent {real.ToJsonString()}");
        switch (documented)
        {
            case JsonObject documentedObject:
                var realObject = real.AsObject();
                Assert.True(
                    documentedObject.Select(p => p.Key).Order().SequenceEqual(realObject.Select(p => p.Key).Order()),
                    $"{path}: documented fields {documentedObject.ToJsonString()}, the server sent {realObject.ToJsonString()}");
                foreach (var (name, value) in documentedObject)
                {
                    if (name is "type" or "code" or "event")
                    {
                        Assert.Equal(value!.GetValue<string>(), realObject[name]!.GetValue<string>());
                    }
                    else if (value is not null)
                    {
                        AssertSameShape(value, realObject[name], $"{path}.{name}");
                    }
                    else
                    {
                        Assert.True(realObject[name] is null, $"{path}.{name}: documented null, the server sent {realObject[name]?.ToJsonString()}");
                    }
                }

                break;
            case JsonArray { Count: > 0 } documentedArray:
                var realArray = real.AsArray();
                Assert.True(realArray.Count > 0, $"{path}: documented items, the server sent none");
                AssertSameShape(documentedArray[0]!, realArray[0], $"{path}[0]");
                break;
        }
    }

    private static bool IsBoolean(JsonNode node) => node.GetValueKind() is JsonValueKind.True or JsonValueKind.False;

    /// <summary>What kind of frame: the type, and for presence which event.</summary>
    private static string Kind(JsonObject frame) =>
        (string)frame["type"]! + (frame["event"] is { } presence ? "/" + (string)presence! : "");

    private static string Section(string heading)
    {
        int start = Document.IndexOf("\n" + heading + "\n", StringComparison.Ordinal);
        Assert.True(start >= 0, $"docs/protocol.md has no \"{heading}\"");
        int end = Document.IndexOf("\n#", start + heading.Length + 2, StringComparison.Ordinal);
        return end < 0 ? Document[start..] : Document[start..end];
    }

    /// <summary>The <c>→ {…}</c> and <c>← {…}</c> lines of a section's examples, in order.</summary>
    private static List<(char Direction, string Json)> ExampleLines(string section) =>
        ExampleLine().Matches(section).Select(m => (m.Groups["dir"].Value[0], m.Groups["json"].Value)).ToList();

    [GeneratedRegex(@"^(?<dir>[→←]) (?<json>\{.*\})\s*$", RegexOptions.Multiline)]
    private static partial Regex ExampleLine();
}
