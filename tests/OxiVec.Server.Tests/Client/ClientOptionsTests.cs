using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OxiVec.Client;

namespace OxiVec.Server.Tests.Client;

public sealed class ClientOptionsTests
{
    private static OxiVecClientOptions Bind(string key, string value)
    {
        IConfiguration configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["OxiVec:Client:" + key] = value }).Build();
        var services = new ServiceCollection();
        services.AddSingleton(configuration);
        services.AddOxiVecClient(o => o.RetryBaseDelay = TimeSpan.FromMilliseconds(5));
        using ServiceProvider provider = services.BuildServiceProvider();
        return provider.GetRequiredService<IOptions<OxiVecClientOptions>>().Value;
    }

    [Theory]
    [InlineData("Endpoint", "not a uri", "OxiVec:Client:Endpoint")]
    [InlineData("Endpoint", "ftp://host/", "OxiVec:Client:Endpoint")]
    [InlineData("MaxRetries", "-1", "OxiVec:Client:MaxRetries")]
    [InlineData("MaxRetries", "many", "OxiVec:Client:MaxRetries")]
    [InlineData("Timeout", "00:00:00", "OxiVec:Client:Timeout")]
    [InlineData("Timeout", "soon", "OxiVec:Client:Timeout")]
    [InlineData("RetryMaxDelay", "-00:00:01", "OxiVec:Client:RetryMaxDelay")]
    public void ABadSetting_FailsNamingIt(string key, string value, string named)
    {
        Exception error = Assert.ThrowsAny<ArgumentException>(() => Bind(key, value));
        Assert.Contains(named, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Defaults_AndCodeConfigurationAfterTheSection()
    {
        OxiVecClientOptions options = Bind("Endpoint", "http://db.internal:7000");
        Assert.Equal(new Uri("http://db.internal:7000/"), options.Endpoint);
        Assert.Equal(TimeSpan.FromSeconds(30), options.Timeout);
        Assert.Equal(3, options.MaxRetries);
        Assert.Equal(TimeSpan.FromMilliseconds(5), options.RetryBaseDelay);
        Assert.Null(options.ApiKey);
    }

    [Fact]
    public void PointId_ParsesPrintsAndComparesBothForms()
    {
        Guid uuid = Guid.NewGuid();
        Assert.Equal(new PointId(42), PointId.Parse("42"));
        Assert.Equal(new PointId(uuid), PointId.Parse(uuid.ToString("N")));
        Assert.Equal(uuid.ToString("D"), new PointId(uuid).ToString());
        Assert.NotEqual(new PointId(0), new PointId(Guid.Empty));
        Assert.Throws<FormatException>(() => PointId.Parse("-1"));
        Assert.Throws<InvalidOperationException>(() => new PointId(1).Uuid);
    }
}
