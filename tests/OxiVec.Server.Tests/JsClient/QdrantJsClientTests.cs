using Xunit.Abstractions;

namespace OxiVec.Server.Tests.JsClient;

/// <summary>
/// Qdrant's official JavaScript client (<c>@qdrant/js-client-rest</c>, pinned in tests/qdrant-js/package-lock.json)
/// against a real server: tests/qdrant-js/qdrant-client-test.mjs runs every call OxiVec supports and asserts the
/// answers. Needs node (20 or later) and npm; the first run installs the client with <c>npm ci</c>.
/// </summary>
[Collection(ExternalProcess.JsPackageCollection)]
public sealed class QdrantJsClientTests(ITestOutputHelper output)
{
    [Fact]
    public async Task QdrantJsClient_EverySupportedCall_AnswersAsQdrantDocuments()
    {
        await ExternalProcess.EnsureJsClientInstalledAsync();
        await using ServerFixture server = await ServerFixture.StartAsync();
        string url = server.Address.GetLeftPart(UriPartial.Authority);
        (int exitCode, string text) = await ExternalProcess.RunAsync("node", ["qdrant-client-test.mjs", url], ExternalProcess.JsPackage, TimeSpan.FromMinutes(2));
        output.WriteLine(text);
        Assert.True(exitCode == 0, $"node qdrant-client-test.mjs {url} exited with {exitCode}:{Environment.NewLine}{text}");
    }
}
