using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using OxiVec.Hosting;

namespace OxiVec.Server.Tests;

public sealed class ErrorHandlingTests
{
    private static void MapThrowers(WebApplication app)
    {
        app.MapGet("/test/throw/argument", string () => throw new ArgumentException("The field 'limit' must be positive."));
        app.MapGet("/test/throw/missing", string () => throw new KeyNotFoundException("Collection 'x' does not exist."));
        app.MapGet("/test/throw/json", string () => throw new JsonException("'}' is invalid after a property name. Path: $.vector"));
        app.MapGet("/test/throw/unavailable", string () => throw new DatabaseUnavailableException(DatabaseState.Recovering));
        app.MapGet("/test/throw/bug", string () => throw new InvalidCastException("secret internals"));
        app.MapGet("/test/status/bodiless", () => Results.StatusCode(StatusCodes.Status409Conflict));
        app.MapGet("/test/status/with-body", () => Results.Text("own words", "text/plain", statusCode: StatusCodes.Status409Conflict));
        app.MapGet("/test/status/no-content", () => Results.NoContent());
        LimitTests.MapTestEndpoints(app);
    }

    [Theory]
    [InlineData("/test/throw/argument", HttpStatusCode.BadRequest, "'limit' must be positive")]
    [InlineData("/test/throw/missing", HttpStatusCode.NotFound, "Collection 'x' does not exist.")]
    [InlineData("/test/throw/json", HttpStatusCode.BadRequest, "Path: $.vector")]
    [InlineData("/test/throw/unavailable", HttpStatusCode.ServiceUnavailable, "recovering")]
    [InlineData("/test/throw/bug", HttpStatusCode.InternalServerError, "Internal error")]
    public async Task ExceptionFromAnEndpoint_AnswersItsStatus_InQdrantsEnvelope(string path, HttpStatusCode expected, string message)
    {
        await using ServerFixture server = await ServerFixture.StartAsync(configure: MapThrowers);
        var (status, error, response) = await server.SendAsync(ServerFixture.Request(HttpMethod.Get, path));
        Assert.Equal(expected, status);
        Assert.Contains(message, error, StringComparison.Ordinal);
        Assert.DoesNotContain("secret internals", error, StringComparison.Ordinal);
        Assert.True(response.Headers.TryGetValues("x-request-id", out var ids));
        Assert.False(string.IsNullOrEmpty(ids.Single()));
    }

    [Fact]
    public async Task InternalError_NamesTheRequestIdItWasLoggedUnder()
    {
        await using ServerFixture server = await ServerFixture.StartAsync(configure: MapThrowers);
        var (_, error, response) = await server.SendAsync(ServerFixture.Request(HttpMethod.Get, "/test/throw/bug"));
        Assert.Contains(response.Headers.GetValues("x-request-id").Single(), error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BadJsonBody_Answers400_NamingWhereItBroke()
    {
        await using ServerFixture server = await ServerFixture.StartAsync(configure: MapThrowers);
        var (status, error, _) = await server.SendAsync(ServerFixture.Request(HttpMethod.Post, "/test/vector", json: """{"vector": [1, 2, "x"]}"""));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.True(error?.Contains("$.vector[2]", StringComparison.Ordinal), error);
    }

    [Fact]
    public async Task UnknownPath_Answers404_AndAWrongMethod405_InQdrantsEnvelope()
    {
        await using ServerFixture server = await ServerFixture.StartAsync();
        var (status, error, _) = await server.SendAsync(ServerFixture.Request(HttpMethod.Get, "/no/such/endpoint"));
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Contains("/no/such/endpoint", error, StringComparison.Ordinal);

        var wrongMethod = await server.SendAsync(ServerFixture.Request(HttpMethod.Delete, "/oxivec/checkpoint"));
        Assert.Equal(HttpStatusCode.MethodNotAllowed, wrongMethod.Status);
        Assert.NotNull(wrongMethod.Error);
    }

    [Fact]
    public async Task ErrorStatusWithoutABody_GetsTheEnvelope_ButAnAnswersOwnBodyAndASuccessAreLeftAlone()
    {
        await using ServerFixture server = await ServerFixture.StartAsync(configure: MapThrowers);
        var bodiless = await server.SendAsync(ServerFixture.Request(HttpMethod.Get, "/test/status/bodiless"));
        Assert.Equal(HttpStatusCode.Conflict, bodiless.Status);
        Assert.Equal("HTTP 409.", bodiless.Error);

        using HttpResponseMessage withBody = await server.Client.GetAsync("/test/status/with-body");
        Assert.Equal(HttpStatusCode.Conflict, withBody.StatusCode);
        Assert.Equal("own words", await withBody.Content.ReadAsStringAsync());

        using HttpResponseMessage noContent = await server.Client.GetAsync("/test/status/no-content");
        Assert.Equal(HttpStatusCode.NoContent, noContent.StatusCode);
        Assert.Empty(await noContent.Content.ReadAsByteArrayAsync());
    }
}
