using OxiVec.Storage;
using OxiVec.VectorData.Embedded;
using OxiVec.VectorData.Tests.Support;

namespace OxiVec.VectorData.Tests.Embedded;

/// <summary>The embedded back end over a database in a fresh temporary directory, deleted at the end.</summary>
public sealed class EmbeddedFixture : BackendFixture
{
    private readonly OxiVecEmbeddedBackend _backend;

    public EmbeddedFixture()
    {
        Directory = Path.Combine(Path.GetTempPath(), "oxivec-vectordata-" + Guid.NewGuid().ToString("N"));
        _backend = OxiVecEmbeddedBackend.Open(Directory);
    }

    /// <summary>The database's data directory.</summary>
    public string Directory { get; }

    /// <summary>The database.</summary>
    public VectorDatabase Database => _backend.Database;

    /// <inheritdoc/>
    public override IOxiVecBackend Backend => _backend;

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        _backend.Dispose();
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}
