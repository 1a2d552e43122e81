using OxiVec.VectorData;

namespace OxiVec.VectorData.Tests.Support;

/// <summary>
/// One back end the conformance suites run against. Each suite is an abstract class taking a
/// <see cref="BackendFixture"/>; each back end derives one concrete class per suite (see
/// <c>Embedded/EmbeddedSuites.cs</c>) with its fixture as an xunit class fixture. Tests give their collections
/// names from <see cref="NewCollectionName"/>, so tests of a class never see each other's data.
/// </summary>
public abstract class BackendFixture : IDisposable
{
    private int _collections;

    /// <summary>The back end under test.</summary>
    public abstract IOxiVecBackend Backend { get; }

    /// <summary>A store over <see cref="Backend"/>.</summary>
    public OxiVecVectorStore CreateStore(OxiVecVectorStoreOptions? options = null) => new(Backend, options);

    /// <summary>A collection name no other test of this fixture uses.</summary>
    public string NewCollectionName(string prefix = "c") => $"{prefix}-{Interlocked.Increment(ref _collections)}";

    /// <inheritdoc/>
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases the back end and what it holds.</summary>
    protected abstract void Dispose(bool disposing);
}
