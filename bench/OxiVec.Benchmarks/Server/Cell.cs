namespace OxiVec.Benchmarks.Server;

/// <summary>A cell: searches, or single-point upserts at a sync interval, by a number of concurrent clients.</summary>
/// <param name="Upsert">Upserts (else searches).</param>
/// <param name="Clients">Concurrent clients.</param>
/// <param name="SyncIntervalMs">The WAL's sync interval of both sides (searches: 1000).</param>
internal sealed record Cell(bool Upsert, int Clients, int SyncIntervalMs);

/// <summary>
/// One round: every cell measured embedded and over HTTP, back to back (a pair, every other one HTTP first; the search
/// cells several pairs in a row, <see cref="ServerBenchOptions.SearchPairs"/>), and wrk's search cell.
/// </summary>
internal sealed record Round(IReadOnlyDictionary<Cell, IReadOnlyList<(CellResult Embedded, CellResult Http)>> Cells, WrkResult? Wrk);
