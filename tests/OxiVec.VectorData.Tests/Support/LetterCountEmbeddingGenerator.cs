using Microsoft.Extensions.AI;

namespace OxiVec.VectorData.Tests.Support;

/// <summary>
/// A deterministic embedding generator for tests: the vector of a text counts its letters 'a', 'b' and 'c' (each
/// plus 0.01, so no vector is zero). "aaa" is closest, by cosine, to texts that are mostly a's. Counts its calls.
/// </summary>
public sealed class LetterCountEmbeddingGenerator : IEmbeddingGenerator<string, Embedding<float>>
{
    private int _calls;

    /// <summary>Values embedded so far.</summary>
    public int Generated => Volatile.Read(ref _calls);

    /// <summary>The vector of <paramref name="text"/>.</summary>
    public static float[] Embed(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return [Count(text, 'a'), Count(text, 'b'), Count(text, 'c')];
    }

    /// <inheritdoc/>
    public Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(
        IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(values);
        var embeddings = new GeneratedEmbeddings<Embedding<float>>();
        foreach (string value in values)
        {
            Interlocked.Increment(ref _calls);
            embeddings.Add(new Embedding<float>(Embed(value)));
        }

        return Task.FromResult(embeddings);
    }

    /// <inheritdoc/>
    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceKey is null && serviceType.IsInstanceOfType(this) ? this : null;

    /// <inheritdoc/>
    public void Dispose()
    {
    }

    private static float Count(string text, char letter) => text.Count(c => c == letter) + 0.01f;
}
