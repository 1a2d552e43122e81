using System.Globalization;
using OxiVec.Cli.Data;
using OxiVec.Storage;

namespace OxiVec.Cli.Demo;

/// <summary>
/// The demo's "real-looking" data: articles whose 64-dimensional embeddings cluster by topic (a random centroid per
/// topic plus noise), with metadata a user would filter on: topic, year, views, rating and tags. Deterministic.
/// </summary>
internal static class DemoArticles
{
    public const int Dimension = 64;
    private const long Seed = 2024;
    private const float Noise = 0.6f;

    public static readonly string[] Topics =
        ["science", "sports", "politics", "music", "travel", "food", "technology", "health", "finance", "art", "history", "gaming"];

    private static readonly string[][] TopicTags =
    [
        ["space", "physics", "biology", "climate"],
        ["football", "tennis", "olympics", "cycling"],
        ["elections", "policy", "europe", "diplomacy"],
        ["jazz", "rock", "classical", "festivals"],
        ["islands", "trains", "cities", "hiking"],
        ["recipes", "vegan", "wine", "street-food"],
        ["ai", "databases", "security", "open-source"],
        ["nutrition", "sleep", "fitness", "medicine"],
        ["markets", "startups", "crypto", "banking"],
        ["painting", "museums", "design", "photography"],
        ["ancient", "wars", "archaeology", "biographies"],
        ["consoles", "indie", "esports", "retro"],
    ];

    private static readonly float[][] Centroids = [.. Enumerable.Range(0, Topics.Length).Select(t => DeterministicVectors.Vector(Seed, -1 - t, Dimension))];

    /// <summary>The id of article <paramref name="i"/>: <c>article-00042</c>.</summary>
    public static string Id(int i) => string.Create(CultureInfo.InvariantCulture, $"article-{i:D5}");

    /// <summary>Article <paramref name="i"/>: its embedding and metadata.</summary>
    public static (float[] Vector, Dictionary<string, MetadataValue> Metadata) Article(int i)
    {
        ulong h = DeterministicVectors.Mix((ulong)(Seed * 31) ^ (ulong)i);
        int topic = (int)(h % (ulong)Topics.Length);
        float[] vector = Near(Centroids[topic], DeterministicVectors.Vector(Seed, i, Dimension), Noise);
        string[] tags = TopicTags[topic];
        int tagCount = 1 + (int)((h >> 8) % 3);
        int firstTag = (int)((h >> 12) % (ulong)tags.Length);
        var metadata = new Dictionary<string, MetadataValue>(StringComparer.Ordinal)
        {
            ["topic"] = Topics[topic],
            ["year"] = 2015L + (long)((h >> 16) % 11),
            ["views"] = (long)((h >> 24) % 250_000),
            ["rating"] = 1 + (((h >> 44) % 41) / 10.0),
            ["tags"] = MetadataValue.From(Enumerable.Range(0, tagCount).Select(k => tags[(firstTag + k) % tags.Length])),
        };
        return (vector, metadata);
    }

    /// <summary>A query "about" <paramref name="topic"/>: near its centroid, but not any stored article.</summary>
    public static float[] Query(string topic) =>
        Near(Centroids[Array.IndexOf(Topics, topic)], DeterministicVectors.Vector(Seed + 1, 0, Dimension), Noise);

    private static float[] Near(float[] centroid, float[] noise, float scale)
    {
        var vector = new float[centroid.Length];
        for (int j = 0; j < vector.Length; j++)
        {
            vector[j] = centroid[j] + (scale * noise[j]);
        }

        return vector;
    }
}
