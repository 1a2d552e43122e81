using System.Diagnostics;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.VectorData;
using OxiVec.Samples.SemanticSearch.Corpus;
using Spectre.Console;

namespace OxiVec.Samples.SemanticSearch;

/// <summary>
/// The sample's steps over a corpus, an embedding generator and a collection: embed the packages and the held-out
/// recall queries, upsert the packages, answer the text queries (the collection embeds them with its own generator),
/// and measure recall@k of the collection's HNSW search against exact search over the same embeddings.
/// The packages are embedded here rather than by the collection so that embedding and indexing are timed apart and
/// the exact search has the vectors.
/// </summary>
internal sealed class SemanticSearchRun
{
    /// <summary>Texts per progress update while embedding.</summary>
    private const int EmbeddingChunk = 512;

    private readonly SampleOptions _options;
    private readonly IEmbeddingGenerator<string, Embedding<float>> _generator;
    private readonly VectorStoreCollection<string, PackageRecord> _collection;
    private readonly IAnsiConsole _console;

    /// <summary>Prepares a run; nothing happens until <see cref="RunAsync"/>.</summary>
    public SemanticSearchRun(
        SampleOptions options,
        IEmbeddingGenerator<string, Embedding<float>> generator,
        VectorStoreCollection<string, PackageRecord> collection,
        IAnsiConsole console)
    {
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _generator = generator ?? throw new ArgumentNullException(nameof(generator));
        _collection = collection ?? throw new ArgumentNullException(nameof(collection));
        _console = console ?? throw new ArgumentNullException(nameof(console));
    }

    /// <summary>Runs the sample over <paramref name="corpus"/>, showing progress and results on the console.</summary>
    public async Task<SampleReport> RunAsync(DebianCorpus corpus, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(corpus);
        int recallQueries = Math.Min(_options.RecallQueries, corpus.Packages.Count - 1);
        (IReadOnlyList<DebianPackage> indexed, IReadOnlyList<DebianPackage> held) = corpus.Split(_options.Limit, recallQueries);
        _console.MarkupLineInterpolated(
            $"Corpus: [bold]{corpus.Source}[/], {corpus.Packages.Count:N0} packages ({corpus.StanzasRead:N0} stanzas read). Indexing {indexed.Count:N0}, holding out {held.Count:N0} as recall queries.");

        string[] texts = [.. indexed.Concat(held).Select(p => p.EmbeddingText(_options.MaxTextChars))];
        var embedding = Stopwatch.StartNew();
        ReadOnlyMemory<float>[] vectors = await EmbedAllAsync(texts, cancellationToken).ConfigureAwait(false);
        embedding.Stop();
        ReadOnlyMemory<float>[] indexedVectors = vectors[..indexed.Count];
        ReadOnlyMemory<float>[] queryVectors = vectors[indexed.Count..];

        // A collection left by an earlier run (--data) may hold other packages, some of them this run's queries.
        await _collection.EnsureCollectionDeletedAsync(cancellationToken).ConfigureAwait(false);
        await _collection.EnsureCollectionExistsAsync(cancellationToken).ConfigureAwait(false);
        var indexing = Stopwatch.StartNew();
        await UpsertAllAsync(indexed, indexedVectors, cancellationToken).ConfigureAwait(false);
        indexing.Stop();

        var answers = new List<QueryAnswer>();
        foreach (string query in _options.Queries)
        {
            answers.Add(await AnswerAsync(query, cancellationToken).ConfigureAwait(false));
        }

        (double? recall, Latency hnsw, Latency exact) =
            await MeasureRecallAsync(indexed, indexedVectors, queryVectors, cancellationToken).ConfigureAwait(false);

        return new SampleReport
        {
            CorpusSource = corpus.Source,
            CorpusSize = corpus.Packages.Count,
            Indexed = indexed.Count,
            Embedded = texts.Length,
            EmbeddingTime = embedding.Elapsed,
            IndexingTime = indexing.Elapsed,
            Answers = answers,
            RecallQueries = queryVectors.Length,
            K = _options.Top,
            Recall = recall,
            HnswSearch = hnsw,
            ExactSearch = exact,
        };
    }

    private async Task<ReadOnlyMemory<float>[]> EmbedAllAsync(string[] texts, CancellationToken cancellationToken)
    {
        var vectors = new ReadOnlyMemory<float>[texts.Length];
        await _console.Progress().Columns(ProgressColumns()).StartAsync(async context =>
        {
            ProgressTask task = context.AddTask($"Embedding {texts.Length:N0} descriptions", maxValue: texts.Length);
            for (int start = 0; start < texts.Length; start += EmbeddingChunk)
            {
                int end = Math.Min(start + EmbeddingChunk, texts.Length);
                GeneratedEmbeddings<Embedding<float>> embeddings =
                    await _generator.GenerateAsync(texts[start..end], cancellationToken: cancellationToken).ConfigureAwait(false);
                for (int i = 0; i < embeddings.Count; i++)
                {
                    vectors[start + i] = embeddings[i].Vector;
                }

                task.Increment(end - start);
            }
        }).ConfigureAwait(false);
        return vectors;
    }

    private async Task UpsertAllAsync(
        IReadOnlyList<DebianPackage> packages, ReadOnlyMemory<float>[] vectors, CancellationToken cancellationToken)
    {
        await _console.Progress().Columns(ProgressColumns()).StartAsync(async context =>
        {
            ProgressTask task = context.AddTask($"Indexing {packages.Count:N0} packages (HNSW)", maxValue: packages.Count);
            for (int start = 0; start < packages.Count; start += _options.UpsertBatchSize)
            {
                int end = Math.Min(start + _options.UpsertBatchSize, packages.Count);
                PackageRecord[] batch = [.. Enumerable.Range(start, end - start).Select(i => ToRecord(packages[i], vectors[i]))];
                await _collection.UpsertAsync(batch, cancellationToken).ConfigureAwait(false);
                task.Increment(batch.Length);
            }
        }).ConfigureAwait(false);
    }

    private async Task<QueryAnswer> AnswerAsync(string query, CancellationToken cancellationToken)
    {
        var elapsed = Stopwatch.StartNew();
        var hits = new List<Hit>();

        // The text itself: the collection embeds it with the generator the store was given.
        await foreach (VectorSearchResult<PackageRecord> result in _collection
            .SearchAsync(query, _options.Top, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            hits.Add(new Hit(result.Record.Name, result.Record.Section, result.Record.Description, result.Score ?? double.NaN));
        }

        elapsed.Stop();
        return new QueryAnswer(query, hits, elapsed.Elapsed);
    }

    private async Task<(double? Recall, Latency Hnsw, Latency Exact)> MeasureRecallAsync(
        IReadOnlyList<DebianPackage> indexed,
        ReadOnlyMemory<float>[] indexedVectors, ReadOnlyMemory<float>[] queryVectors, CancellationToken cancellationToken)
    {
        var exact = new ExactSearch(indexedVectors);
        int k = Math.Min(_options.Top, indexedVectors.Length);
        var hnswTimes = new List<TimeSpan>(queryVectors.Length);
        var exactTimes = new List<TimeSpan>(queryVectors.Length);
        double found = 0;
        foreach (ReadOnlyMemory<float> query in queryVectors)
        {
            var watch = Stopwatch.StartNew();
            var approximate = new HashSet<string>(StringComparer.Ordinal);
            await foreach (VectorSearchResult<PackageRecord> result in _collection
                .SearchAsync(query, k, cancellationToken: cancellationToken).ConfigureAwait(false))
            {
                approximate.Add(result.Record.Name);
            }

            hnswTimes.Add(watch.Elapsed);
            watch.Restart();
            IReadOnlyList<int> truth = exact.Search(query.Span, k);
            exactTimes.Add(watch.Elapsed);
            found += truth.Count(i => approximate.Contains(indexed[i].Name));
        }

        double? recall = queryVectors.Length == 0 ? null : found / ((double)queryVectors.Length * k);
        return (recall, Latency.Of(hnswTimes), Latency.Of(exactTimes));
    }

    private static PackageRecord ToRecord(DebianPackage package, ReadOnlyMemory<float> vector) => new()
    {
        Name = package.Name,
        Section = package.Section,
        Description = package.LongDescription.Length == 0 ? package.Synopsis : $"{package.Synopsis}\n{package.LongDescription}",
        Embedding = vector,
    };

    private static ProgressColumn[] ProgressColumns() =>
        [new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn()];
}
