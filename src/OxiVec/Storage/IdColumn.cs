using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using OxiVec.Storage.Versions;

namespace OxiVec.Storage;

/// <summary>
/// The record id of each slot, held without an object per record: an id of up to <see cref="InlineChars"/> characters
/// is copied into the slot's cell of a chunked column of plain structs (no references), a longer one is kept as a
/// string in an overflow column.
/// </summary>
/// <remarks>
/// Why: a string per record stored into a long-lived array is an object every insert keeps alive and a reference from
/// an old generation to a young one. Each gen0 collection then follows the card table to every id inserted since the
/// last gen1 and copies them out of gen0: at tens of thousands of inserts between collections that was 1-3 MB promoted
/// and a 5-6 ms pause the writer waited in (issue 12, goal 1). Cells of chars are neither objects nor references, so an
/// insert leaves nothing behind for the collector. Reads materialise a string (or read the span) from the cell.
/// A slot is written only while hidden from readers (see <see cref="Collection"/>), as the string column was.
/// Not thread-safe for writers: the apply step writes.
/// </remarks>
internal sealed class IdColumn
{
    /// <summary>The longest id held inline (a UUID's 36 characters); longer ids are strings in the overflow column.</summary>
    public const int InlineChars = 36;

    private readonly SlotColumn<Cell> _cells = new();
    private readonly SlotColumn<string?> _overflow = new();

    /// <summary>Makes sure <paramref name="slot"/> and every slot below it have storage.</summary>
    public void EnsureSlot(int slot)
    {
        _cells.EnsureSlot(slot);
        _overflow.EnsureSlot(slot);
    }

    /// <summary>Whether <paramref name="slot"/> (with storage) was ever given an id.</summary>
    public bool Has(int slot) => _cells.At(slot).Length != 0;

    /// <summary>Writes <paramref name="id"/> into <paramref name="slot"/>, which has storage and is hidden from readers.</summary>
    public void Set(int slot, string id)
    {
        ref Cell cell = ref _cells.At(slot);
        if (id.Length <= InlineChars)
        {
            id.CopyTo(cell.Chars);
            _overflow.At(slot) = null;
            cell.Length = id.Length + 1;
        }
        else
        {
            _overflow.At(slot) = id;
            cell.Length = -1;
        }
    }

    /// <summary>The id of <paramref name="slot"/> (empty when it has none), valid while the slot is not rewritten.</summary>
    public ReadOnlySpan<char> Span(int slot)
    {
        ref Cell cell = ref _cells.At(slot);
        int length = cell.Length;
        return length switch
        {
            > 0 => MemoryMarshal.CreateReadOnlySpan(ref cell.Chars[0], length - 1),
            < 0 => _overflow.At(slot),
            _ => [],
        };
    }

    /// <summary>The id of <paramref name="slot"/> as a new string (the overflow string itself when long), or null when it has none.</summary>
    public string? Get(int slot)
    {
        ref Cell cell = ref _cells.At(slot);
        int length = cell.Length;
        return length switch
        {
            > 0 => new string(MemoryMarshal.CreateReadOnlySpan(ref cell.Chars[0], length - 1)),
            < 0 => _overflow.At(slot),
            _ => null,
        };
    }

    [InlineArray(InlineChars)]
    private struct Chars
    {
        private char _first;
    }

    private struct Cell
    {
        public Chars Chars;

        /// <summary>The id's length plus one when inline; -1 when in the overflow column; 0 when the slot has no id.</summary>
        public int Length;
    }
}
