using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using OxiVec.Wal;

namespace OxiVec.Storage;

/// <summary>Settings of a <see cref="VectorDatabase"/>, read once when it is opened.</summary>
public sealed record VectorDatabaseOptions
{
    /// <summary>
    /// WAL settings (sync policy, segment size...). Their <see cref="WalConfig.WalDir"/> is replaced by
    /// <see cref="WalDirectory"/>. The default is <see cref="WalConfig.Default"/> (fsync every second).
    /// </summary>
    public WalConfig Wal { get; init; } = WalConfig.Default;

    /// <summary>Where the WAL lives; the default is <c>wal</c> under the data directory. The guide recommends a separate fast disk.</summary>
    public string? WalDirectory { get; init; }

    /// <summary>Receives recovery reports and failures.</summary>
    public ILoggerFactory? LoggerFactory { get; init; }

    /// <summary>The clock for WAL timestamps; the system clock by default.</summary>
    public TimeProvider? TimeProvider { get; init; }

    /// <summary>Creates the <c>OxiVec.Wal</c> and <c>OxiVec.Store</c> meters; standalone meters by default.</summary>
    public IMeterFactory? MeterFactory { get; init; }
}
