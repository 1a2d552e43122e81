namespace OxiVec.Samples.SemanticSearch;

/// <summary>One hit of a query: the package, its section and description, and its cosine similarity.</summary>
internal sealed record Hit(string Name, string Section, string Description, double Score);

/// <summary>A query, its hits (best first), and how long embedding it and searching took.</summary>
internal sealed record QueryAnswer(string Query, IReadOnlyList<Hit> Hits, TimeSpan Elapsed);

/// <summary>Percentiles of a set of latencies, in milliseconds.</summary>
internal sealed record Latency(double MeanMs, double P50Ms, double P99Ms)
{
    /// <summary>Summarises <paramref name="samples"/> (nearest-rank percentiles); all zero when there is none.</summary>
    public static Latency Of(IReadOnlyCollection<TimeSpan> samples)
    {
        ArgumentNullException.ThrowIfNull(samples);
        if (samples.Count == 0)
        {
            return new Latency(0, 0, 0);
        }

        double[] ms = [.. samples.Select(s => s.TotalMilliseconds).Order()];
        double Rank(double p) => ms[Math.Clamp((int)Math.Ceiling(p * ms.Length) - 1, 0, ms.Length - 1)];
        return new Latency(ms.Average(), Rank(0.50), Rank(0.99));
    }
}

/// <summary>What a run of the sample measured.</summary>
internal sealed record SampleReport
{
    /// <summary>Where the package descriptions came from.</summary>
    public required string CorpusSource { get; init; }

    /// <summary>Distinct packages in the corpus.</summary>
    public required int CorpusSize { get; init; }

    /// <summary>Packages indexed.</summary>
    public required int Indexed { get; init; }

    /// <summary>Texts embedded (indexed packages and recall queries) and how long it took.</summary>
    public required int Embedded { get; init; }

    /// <summary>Time to embed <see cref="Embedded"/> texts.</summary>
    public required TimeSpan EmbeddingTime { get; init; }

    /// <summary>Time to upsert the indexed packages into the HNSW collection.</summary>
    public required TimeSpan IndexingTime { get; init; }

    /// <summary>The queries answered, with their hits.</summary>
    public required IReadOnlyList<QueryAnswer> Answers { get; init; }

    /// <summary>Held-out descriptions searched to measure recall.</summary>
    public required int RecallQueries { get; init; }

    /// <summary>The k of recall@k.</summary>
    public required int K { get; init; }

    /// <summary>Mean fraction of the exact top k that the HNSW search returned; null when there was no recall query.</summary>
    public required double? Recall { get; init; }

    /// <summary>Latency of a k-nearest search through the provider (an embedded vector in, records out).</summary>
    public required Latency HnswSearch { get; init; }

    /// <summary>Latency of the exact (brute-force) search over the same vectors.</summary>
    public required Latency ExactSearch { get; init; }

    /// <summary>Texts embedded per second.</summary>
    public double EmbeddingsPerSecond => Embedded / Math.Max(EmbeddingTime.TotalSeconds, 1e-9);

    /// <summary>Records upserted per second.</summary>
    public double UpsertsPerSecond => Indexed / Math.Max(IndexingTime.TotalSeconds, 1e-9);
}
