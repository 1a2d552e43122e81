using System.Runtime.InteropServices;
using Cloud.Unum.USearch;

namespace OxiVec.Benchmarks.Store;

/// <summary>
/// A USearch index (the <c>Cloud.Unum.USearch</c> package's native <c>libusearch_c</c>) driven through its C API,
/// float32 vectors, no quantisation. The package's managed wrapper fixes the search expansion at construction
/// and allocates result arrays per call; calling the C API directly lets the benchmark sweep the expansion on one
/// built index and search into caller buffers, so USearch is measured at its best.
/// </summary>
/// <remarks>
/// <see cref="Search"/> may be called from several threads at once (USearch reserves one search context per
/// hardware thread in <see cref="Reserve"/>); <see cref="Add"/> and <see cref="SetExpansionSearch"/> may not run
/// concurrently with anything else.
/// </remarks>
internal sealed partial class USearchPeer : IDisposable
{
    private const string Library = "libusearch_c";
    private nint _index;

    /// <summary>Creates an empty index.</summary>
    /// <param name="dimension">Vector length.</param>
    /// <param name="metric">The distance (L2 squared, or cosine).</param>
    /// <param name="connectivity">Links per node above the base layer (the base layer keeps twice as many): HNSW's M.</param>
    /// <param name="expansionAdd">Beam width while inserting: HNSW's efConstruction.</param>
    public USearchPeer(int dimension, MetricKind metric, int connectivity, int expansionAdd)
    {
        var options = new InitOptions
        {
            MetricKind = metric,
            Quantization = ScalarKind.Float32,
            Dimensions = (nuint)dimension,
            Connectivity = (nuint)connectivity,
            ExpansionAdd = (nuint)expansionAdd,
            ExpansionSearch = 64,
        };
        nint error;
        unsafe
        {
            _index = Init(&options, out error);
        }

        Check(error, "usearch_init");
        if (_index == 0)
        {
            throw new InvalidOperationException("usearch_init returned no index");
        }

        Dimension = dimension;
    }

    public int Dimension { get; }

    /// <summary>The library version and the SIMD target it picked on this CPU, e.g. "2.26.6, haswell".</summary>
    public string Describe()
    {
        string? isa = Marshal.PtrToStringUTF8(HardwareAcceleration(_index, out nint error));
        Check(error, "usearch_hardware_acceleration");
        return $"{Marshal.PtrToStringUTF8(Version())}, SIMD target {isa}";
    }

    /// <summary>Reserves room for <paramref name="capacity"/> vectors (and one search context per hardware thread).</summary>
    public void Reserve(int capacity)
    {
        ReserveCore(_index, (nuint)capacity, out nint error);
        Check(error, "usearch_reserve");
    }

    public void Add(ulong key, ReadOnlySpan<float> vector)
    {
        AddCore(_index, key, ref MemoryMarshal.GetReference(vector), ScalarKind.Float32, out nint error);
        Check(error, "usearch_add");
    }

    /// <summary>Sets the search beam width (HNSW's ef; USearch uses at least the number of results asked for).</summary>
    public void SetExpansionSearch(int expansion)
    {
        ChangeExpansionSearch(_index, (nuint)expansion, out nint error);
        Check(error, "usearch_change_expansion_search");
    }

    /// <summary>Writes up to <c>keys.Length</c> nearest keys (closest first) and returns how many were found.</summary>
    public int Search(ReadOnlySpan<float> query, Span<ulong> keys, Span<float> distances)
    {
        nuint found = SearchCore(
            _index,
            ref MemoryMarshal.GetReference(query),
            ScalarKind.Float32,
            (nuint)keys.Length,
            ref MemoryMarshal.GetReference(keys),
            ref MemoryMarshal.GetReference(distances),
            out nint error);
        Check(error, "usearch_search");
        return (int)found;
    }

    public void Dispose()
    {
        if (_index != 0)
        {
            Free(_index, out _);
            _index = 0;
        }
    }

    private static void Check(nint error, string function)
    {
        if (error != 0)
        {
            throw new InvalidOperationException($"{function} failed: {Marshal.PtrToStringUTF8(error)}");
        }
    }

    /// <summary>The C API's <c>usearch_init_options_t</c> (the package's <c>IndexOptions</c> has a <c>bool</c>, which needs runtime marshalling); passed by pointer.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct InitOptions
    {
        public MetricKind MetricKind;
        public nint Metric;
        public ScalarKind Quantization;
        public nuint Dimensions;
        public nuint Connectivity;
        public nuint ExpansionAdd;
        public nuint ExpansionSearch;
        public byte Multi;
    }

    [LibraryImport(Library, EntryPoint = "usearch_version")]
    private static partial nint Version();

    [LibraryImport(Library, EntryPoint = "usearch_init")]
    private static unsafe partial nint Init(InitOptions* options, out nint error);

    [LibraryImport(Library, EntryPoint = "usearch_free")]
    private static partial void Free(nint index, out nint error);

    [LibraryImport(Library, EntryPoint = "usearch_hardware_acceleration")]
    private static partial nint HardwareAcceleration(nint index, out nint error);

    [LibraryImport(Library, EntryPoint = "usearch_reserve")]
    private static partial void ReserveCore(nint index, nuint capacity, out nint error);

    [LibraryImport(Library, EntryPoint = "usearch_add")]
    private static partial void AddCore(nint index, ulong key, ref float vector, ScalarKind kind, out nint error);

    [LibraryImport(Library, EntryPoint = "usearch_change_expansion_search")]
    private static partial void ChangeExpansionSearch(nint index, nuint expansion, out nint error);

    [LibraryImport(Library, EntryPoint = "usearch_search")]
    private static partial nuint SearchCore(
        nint index, ref float query, ScalarKind kind, nuint count, ref ulong keys, ref float distances, out nint error);
}
