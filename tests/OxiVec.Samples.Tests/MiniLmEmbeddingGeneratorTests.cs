using System.Numerics.Tensors;
using Microsoft.Extensions.AI;
using OxiVec.Samples.SemanticSearch.Embeddings;

namespace OxiVec.Samples.Tests;

public sealed class MiniLmEmbeddingGeneratorTests(MiniLmModelFixture model) : IClassFixture<MiniLmModelFixture>
{
    private readonly MiniLmEmbeddingGenerator _generator = model.Generator;

    [Fact]
    public async Task GenerateAsync_TextsOfMixedLengthsAcrossBatches_ComeBackInInputOrderAsTheyEmbedAlone()
    {
        // Batch size 4 and lengths out of order: the generator sorts by length, so this crosses batches and reorders.
        string[] texts =
        [
            "a very long description of a package that plays music files from the command line with playlists and radio",
            "gzip",
            "PDF viewer",
            "image editor for photographs and drawings",
            "x",
            "spell checker",
        ];

        GeneratedEmbeddings<Embedding<float>> together = await _generator.GenerateAsync(texts);

        Assert.Equal(texts.Length, together.Count);
        for (int i = 0; i < texts.Length; i++)
        {
            Embedding<float> alone = await _generator.GenerateAsync(texts[i]);
            Assert.Equal(MiniLmEmbeddingGenerator.Dimensions, together[i].Vector.Length);
            Assert.Equal(1.0, TensorPrimitives.Norm(together[i].Vector.Span), 3);
            Assert.True(
                TensorPrimitives.CosineSimilarity(alone.Vector.Span, together[i].Vector.Span) > 0.999f,
                $"text {i} embedded in a batch differs from its embedding alone");
        }
    }

    [Fact]
    public async Task GenerateAsync_RelatedTexts_AreCloserThanUnrelatedOnes()
    {
        GeneratedEmbeddings<Embedding<float>> e = await _generator.GenerateAsync(
            ["compress files quickly", "gzip: GNU compression utilities", "0ad: Real-time strategy game of ancient warfare"]);

        float related = TensorPrimitives.Dot(e[0].Vector.Span, e[1].Vector.Span);
        float unrelated = TensorPrimitives.Dot(e[0].Vector.Span, e[2].Vector.Span);
        Assert.True(related > unrelated + 0.2f, $"related {related}, unrelated {unrelated}");
    }

    [Fact]
    public async Task GenerateAsync_CancelledToken_ThrowsOperationCanceledAndEmbedsNothing()
    {
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => _generator.GenerateAsync(["compress files quickly"], cancellationToken: cancelled.Token));
    }

    [Fact]
    public async Task GenerateAsync_OtherDimensionsOrModel_ThrowsNotSupported()
    {
        await Assert.ThrowsAsync<NotSupportedException>(
            () => _generator.GenerateAsync(["x"], new EmbeddingGenerationOptions { Dimensions = 768 }));
        await Assert.ThrowsAsync<NotSupportedException>(
            () => _generator.GenerateAsync(["x"], new EmbeddingGenerationOptions { ModelId = "text-embedding-3-small" }));
    }

    [Fact]
    public async Task GenerateAsync_NoText_ReturnsNoEmbedding()
    {
        Assert.Empty(await _generator.GenerateAsync([]));
    }

    [Fact]
    public void GetService_Metadata_ReportsTheModelAnd384Dimensions()
    {
        EmbeddingGeneratorMetadata? metadata = _generator.GetService<EmbeddingGeneratorMetadata>();

        Assert.NotNull(metadata);
        Assert.Equal(384, metadata.DefaultModelDimensions);
        Assert.Equal("all-MiniLM-L6-v2", metadata.DefaultModelId);
        Assert.Same(_generator, _generator.GetService<IEmbeddingGenerator<string, Embedding<float>>>());
        Assert.Null(_generator.GetService(typeof(EmbeddingGeneratorMetadata), serviceKey: "other"));
    }
}
