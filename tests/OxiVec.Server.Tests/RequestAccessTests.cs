using OxiVec.Hosting.Server;

namespace OxiVec.Server.Tests;

public sealed class RequestAccessTests
{
    [Theory]
    [InlineData("GET", "/collections/c/points/1")]
    [InlineData("HEAD", "/")]
    [InlineData("GET", "/oxivec/wal/metrics")]
    [InlineData("POST", "/collections/c/points")]
    [InlineData("POST", "/collections/c/points/scroll")]
    [InlineData("POST", "/collections/c/points/count")]
    [InlineData("POST", "/collections/c/points/search")]
    [InlineData("POST", "/collections/c/points/search/batch")]
    [InlineData("POST", "/collections/c/points/query")]
    [InlineData("POST", "/collections/c/points/query/batch")]
    [InlineData("POST", "/collections/c/points/recommend")]
    [InlineData("POST", "/collections/c/points/recommend/batch")]
    [InlineData("POST", "/collections/c/points/query/")]
    [InlineData("POST", "/Collections/c/Points/Scroll")]
    public void ReadingRequest_IsARead(string method, string path) => Assert.True(RequestAccess.IsRead(method, path));

    [Theory]
    [InlineData("PUT", "/collections/c/points")]
    [InlineData("PUT", "/collections/c")]
    [InlineData("DELETE", "/collections/c")]
    [InlineData("PATCH", "/collections/c")]
    [InlineData("POST", "/collections/c/points/delete")]
    [InlineData("POST", "/collections/c/points/payload")]
    [InlineData("PUT", "/collections/c/points/payload")]
    [InlineData("POST", "/collections/c/points/payload/delete")]
    [InlineData("POST", "/collections/c/points/payload/clear")]
    [InlineData("POST", "/collections/c/points/batch")]
    [InlineData("POST", "/collections/c/points/vectors/delete")]
    [InlineData("POST", "/collections/c/points/query/batch/x")]
    [InlineData("POST", "/collections/points/scroll")]
    [InlineData("POST", "/oxivec/checkpoint")]
    [InlineData("POST", "/collections/aliases")]
    [InlineData("OPTIONS", "/collections/c/points/scroll")]
    public void WritingRequest_IsAWrite(string method, string path) => Assert.False(RequestAccess.IsRead(method, path));
}
