using System.Text;
using System.Text.Json.Nodes;
using Xunit.Abstractions;

namespace OxiVec.Server.Tests.JsClient;

/// <summary>
/// docs/server-clients.md runs as written: its curl commands (the <c>sh</c> block under "## curl") answer the JSON the
/// comment after each shows (<c>...</c> stands for any value, numbers agree to 1e-5), and its JavaScript example prints
/// what its comment shows. The doc's address, 127.0.0.1:6333, is replaced by the test server's.
/// </summary>
[Collection(ExternalProcess.JsPackageCollection)]
public sealed class ServerClientsDocTests(ITestOutputHelper output)
{
    private const string DocAddress = "http://127.0.0.1:6333";
    private const string Any = "<any>";

    private static string Doc => File.ReadAllText(Path.Combine(ExternalProcess.RepositoryRoot, "docs", "server-clients.md"));

    [Fact]
    public async Task CurlExamples_AgainstAFreshServer_AnswerWhatTheDocShows()
    {
        List<(string Command, string Expected)> examples = CurlExamples(CodeBlock(Doc, "## curl", "sh"));
        Assert.True(examples.Count >= 3, $"docs/server-clients.md has {examples.Count} curl examples under '## curl'.");
        await using ServerFixture server = await ServerFixture.StartAsync();
        string url = server.Address.GetLeftPart(UriPartial.Authority);
        foreach ((string command, string expected) in examples)
        {
            string run = command.Replace(DocAddress, url, StringComparison.Ordinal);
            (int exitCode, string answer) = await ExternalProcess.RunAsync("bash", ["-c", run], ExternalProcess.RepositoryRoot, TimeSpan.FromSeconds(60));
            output.WriteLine($"{run}{Environment.NewLine}{answer}");
            Assert.True(exitCode == 0, $"'{run}' exited with {exitCode}: {answer}");
            Assert.True(Matches(JsonNode.Parse(expected.Replace("...", $"\"{Any}\"", StringComparison.Ordinal)), JsonNode.Parse(answer)),
                $"'{run}' answered{Environment.NewLine}{answer}{Environment.NewLine}the doc shows{Environment.NewLine}{expected}");
        }
    }

    [Fact]
    public async Task JavaScriptExample_AgainstAFreshServer_PrintsWhatTheDocShows()
    {
        string example = CodeBlock(Doc, "## Qdrant's JavaScript client", "js");
        string printed = example.Split('\n').Select(l => l.Trim()).Single(l => l.StartsWith("console.log(", StringComparison.Ordinal));
        string expected = printed[(printed.IndexOf("// ", StringComparison.Ordinal) + 3)..];
        await ExternalProcess.EnsureJsClientInstalledAsync();
        await using ServerFixture server = await ServerFixture.StartAsync();
        // In tests/qdrant-js so that node resolves the pinned client; ignored by git.
        string script = Path.Combine(ExternalProcess.JsPackage, $"doc-example-{Guid.NewGuid():N}.generated.mjs");
        await File.WriteAllTextAsync(script, example.Replace(DocAddress, server.Address.GetLeftPart(UriPartial.Authority), StringComparison.Ordinal));
        try
        {
            (int exitCode, string text) = await ExternalProcess.RunAsync("node", [script], ExternalProcess.JsPackage, TimeSpan.FromMinutes(2));
            output.WriteLine(text);
            Assert.True(exitCode == 0, $"the JavaScript example exited with {exitCode}:{Environment.NewLine}{text}");
            Assert.Equal(expected, text.Trim());
        }
        finally
        {
            File.Delete(script);
        }
    }

    /// <summary>The body of the first <c>```language</c> block after the line <paramref name="heading"/>.</summary>
    private static string CodeBlock(string doc, string heading, string language)
    {
        string[] lines = doc.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        int start = Array.IndexOf(lines, heading);
        Assert.True(start >= 0, $"docs/server-clients.md has no line '{heading}'.");
        int open = Array.IndexOf(lines, "```" + language, start);
        int close = open < 0 ? -1 : Array.IndexOf(lines, "```", open + 1);
        Assert.True(open >= 0 && close > open, $"docs/server-clients.md has no ```{language} block after '{heading}'.");
        return string.Join('\n', lines[(open + 1)..close]);
    }

    /// <summary>Each command (its lines up to the first comment) with the JSON of the <c># </c> comment lines after it.</summary>
    private static List<(string Command, string Expected)> CurlExamples(string block)
    {
        var examples = new List<(string, string)>();
        var command = new StringBuilder();
        var expected = new StringBuilder();
        foreach (string line in block.Split('\n').Append(""))
        {
            if (line.StartsWith('#'))
            {
                expected.Append(line.TrimStart('#').Trim());
            }
            else if (expected.Length > 0 || (line.Length == 0 && command.Length > 0))
            {
                examples.Add((command.ToString().Trim(), expected.ToString()));
                command.Clear();
                expected.Clear();
                command.AppendLine(line);
            }
            else
            {
                command.AppendLine(line);
            }
        }

        return [.. examples.Where(e => e.Item1.Length > 0)];
    }

    /// <summary>Equal JSON, where <see cref="Any"/> in <paramref name="expected"/> matches anything and numbers agree to 1e-5.</summary>
    private static bool Matches(JsonNode? expected, JsonNode? actual) => (expected, actual) switch
    {
        (JsonValue e, _) when e.TryGetValue(out string? s) && s == Any => true,
        (null, null) => true,
        (JsonObject e, JsonObject a) => e.Count == a.Count && e.All(p => a.TryGetPropertyValue(p.Key, out JsonNode? v) && Matches(p.Value, v)),
        (JsonArray e, JsonArray a) => e.Count == a.Count && e.Zip(a).All(p => Matches(p.First, p.Second)),
        (JsonValue e, JsonValue a) when e.TryGetValue(out double x) && a.TryGetValue(out double y) => Math.Abs(x - y) <= 1e-5 * Math.Max(1, Math.Abs(x)),
        _ => JsonNode.DeepEquals(expected, actual),
    };
}
