namespace OxiVec.Samples.SemanticSearch;

/// <summary>What one run of the sample does.</summary>
internal sealed record SampleOptions
{
    /// <summary>The queries answered with their top hits when none is given on the command line.</summary>
    public static readonly IReadOnlyList<string> DefaultQueries =
    [
        "compress files quickly",
        "read PDF files",
        "edit images",
        "play music files",
        "check spelling in a document",
        "monitor network traffic",
    ];

    /// <summary>The most packages to index (spread evenly over the corpus), or null for all.</summary>
    public int? Limit { get; init; }

    /// <summary>Held-out package descriptions used as queries to measure recall@10; the default is 200.</summary>
    public int RecallQueries { get; init; } = 200;

    /// <summary>The queries whose top hits are shown.</summary>
    public IReadOnlyList<string> Queries { get; init; } = DefaultQueries;

    /// <summary>Hits shown per query, and the k of recall@k; the default is 10.</summary>
    public int Top { get; init; } = 10;

    /// <summary>Texts per model run; the default is 32.</summary>
    public int EmbeddingBatchSize { get; init; } = 32;

    /// <summary>Records per upsert (one OxiVec transaction each); the default is 1,000.</summary>
    public int UpsertBatchSize { get; init; } = 1_000;

    /// <summary>The longest text embedded per package, in characters; the default is 600 (see <see cref="Corpus.DebianPackage.EmbeddingText"/>).</summary>
    public int MaxTextChars { get; init; } = 600;

    /// <summary>A Debian control file to read instead of this machine's package lists, or null.</summary>
    public string? CorpusFile { get; init; }
}
