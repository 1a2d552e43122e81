namespace OxiVec.Samples.SemanticSearch.Corpus;

/// <summary>One binary package of a Debian package list: its name, section and description.</summary>
/// <param name="Name">The <c>Package</c> field, unique within a <see cref="DebianCorpus"/>.</param>
/// <param name="Section">The <c>Section</c> field (e.g. <c>utils</c>, <c>contrib/net</c>), or <c>unknown</c> when the stanza has none.</param>
/// <param name="Synopsis">The first line of the <c>Description</c> field.</param>
/// <param name="LongDescription">
/// The rest of the <c>Description</c> field, paragraphs separated by blank lines; empty when the list carries only
/// synopses (apt's package lists keep long descriptions in separate translation files).
/// </param>
internal sealed record DebianPackage(string Name, string Section, string Synopsis, string LongDescription)
{
    /// <summary>
    /// The text to embed: the name, the synopsis and the long description, cut at <paramref name="maxChars"/>
    /// characters. all-MiniLM-L6-v2 was trained on sequences of 128 word pieces (about 600 characters of English), so
    /// a cut there loses little and keeps one long description from slowing down its whole batch.
    /// </summary>
    /// <param name="maxChars">The longest text returned; positive.</param>
    public string EmbeddingText(int maxChars)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxChars);
        string text = LongDescription.Length == 0 ? $"{Name}: {Synopsis}" : $"{Name}: {Synopsis}. {LongDescription}";
        return text.Length <= maxChars ? text : text[..maxChars];
    }
}
