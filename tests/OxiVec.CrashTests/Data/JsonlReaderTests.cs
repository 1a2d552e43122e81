using OxiVec.Cli.Data;
using OxiVec.CrashTests.Infrastructure;

namespace OxiVec.CrashTests.Data;

/// <summary>The .jsonl reader's line handling, with a small line limit.</summary>
public sealed class JsonlReaderTests
{
    [Fact]
    public void Read_LineOverTheLimit_ThrowsNamingFileAndLine_WithoutReadingItWhole()
    {
        using var dir = new TempDirectory();
        string file = dir.Sub("docs.jsonl");
        File.WriteAllText(file, "{\"id\": \"a\", \"vector\": [1, 2]}\n\n{\"id\": \"b\", \"vector\": [" + string.Join(", ", Enumerable.Repeat("1", 5000)) + "]}\n");

        var reader = new JsonlReader(file, requireIds: true, maxLineChars: 200);
        var ex = Assert.Throws<InputFileException>(() => reader.Read().ToList());

        Assert.Equal($"{file}: line 3: is longer than 200 characters, the most a line may hold (a record must fit in one WAL segment); is this a JSON Lines file, one object per line?", ex.Message);
    }

    [Theory]
    [InlineData("\n")]
    [InlineData("\r\n")]
    public void Read_LinesAtTheLimit_AreRead_WhateverTheLineEnd(string newline)
    {
        using var dir = new TempDirectory();
        string file = dir.Sub("docs.jsonl");
        string line = "{\"id\": \"a\", \"vector\": [1, 2]}";
        string padded = line.Replace("[1, 2]", "[1, 2]" + new string(' ', 200 - line.Length), StringComparison.Ordinal);
        Assert.Equal(200, padded.Length);
        File.WriteAllText(file, padded + newline + "{\"id\": \"b\", \"vector\": [3, 4]}"); // the last line has no end

        FileRecord[] records = [.. new JsonlReader(file, requireIds: true, maxLineChars: 200).Read()];

        Assert.Equal(["a", "b"], records.Select(r => r.Id));
        Assert.Equal([1L, 2L], records.Select(r => r.Position));
    }
}
