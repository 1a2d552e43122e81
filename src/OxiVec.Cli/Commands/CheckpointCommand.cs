using System.CommandLine;
using System.Globalization;
using OxiVec.Cli.Output;
using OxiVec.Storage;
using OxiVec.Wal;

namespace OxiVec.Cli.Commands;

/// <summary>
/// <c>oxivec checkpoint --data DIR [--wal DIR] [--keep-last N] [--compress] [--json]</c>: opens the database and writes a
/// checkpoint (<see cref="VectorDatabase.Checkpoint"/>), so the next open replays only the WAL after it. Deletes
/// nothing unless <c>--keep-last</c> says so: the CLI does not know the application's retention policy.
/// </summary>
internal static class CheckpointCommand
{
    public static Command Create()
    {
        Option<string> dataOption = StoreOptions.Data();
        Option<string?> walOption = StoreOptions.Wal();
        Option<int?> keepOption = new("--keep-last")
        {
            Description = "After the checkpoint, keep only the newest N checkpoints and delete the older ones, with the WAL segments only they needed (RetentionPolicy.KeepLast(N)). Default: delete nothing.",
            HelpName = "N",
        };
        Option<bool> compressOption = new("--compress")
        {
            Description = "After the checkpoint, compress (zstd) every sealed WAL segment; they stay readable for recovery and 'wal dump'.",
        };
        Option<bool> jsonOption = new("--json")
        {
            Description = "Print one JSON object: {\"sequence\", \"covered_lsn\", \"path\", \"bytes\", \"duration_ms\", \"write_stall_ms\", \"segments_removed\", \"segments_compressed\", \"created\"}.",
        };
        var command = new Command(
            "checkpoint",
            "Write a checkpoint of the database (it opens the database, so it needs the lock): the next open loads it and replays only the WAL after it.")
        {
            dataOption, walOption, keepOption, compressOption, jsonOption,
        };
        command.SetAction(parse => Run(
            parse.GetValue(dataOption)!, parse.GetValue(walOption), parse.GetValue(keepOption), parse.GetValue(compressOption), parse.GetValue(jsonOption)));
        return command;
    }

    private static int Run(string data, string? wal, int? keepLast, bool compress, bool json)
    {
        if (keepLast is < 1)
        {
            return Cli.Fail(ExitCodes.Usage, "--keep-last must be 1 or more (leave it out to delete nothing).");
        }

        WalConfig config = WalConfig.Default with
        {
            RetentionPolicy = keepLast is { } n ? RetentionPolicy.KeepLast(n) : RetentionPolicy.KeepAll,
            EnableCompression = compress,
            CompressionThresholdAgeHours = 0,
        };
        using VectorDatabase database = StoreOptions.Open(data, wal, config, create: false);
        CheckpointInfo info = Figures.WithSpinner(!json, "Writing a checkpoint...", database.Checkpoint);
        if (json)
        {
            using var stdout = new StdOut();
            using var lines = new JsonLines(stdout.Stream);
            lines.WriteObject(o =>
            {
                o.WriteNumber("sequence", info.Sequence);
                o.WriteNumber("covered_lsn", info.CoveredLsn);
                o.WriteString("path", info.Path);
                o.WriteNumber("bytes", info.Bytes);
                o.WriteNumber("duration_ms", info.DurationMs);
                o.WriteNumber("write_stall_ms", info.WriteStallMs);
                o.WriteNumber("segments_removed", info.SegmentsRemoved);
                o.WriteNumber("segments_compressed", info.SegmentsCompressed);
                o.WriteString("created", RecordFormat.Timestamp(info.Created));
            });
        }
        else
        {
            Figures.Write(
                $"Checkpoint of {database.DataDirectory}",
                [
                    ("sequence", StoreOptions.Num(info.Sequence)),
                    ("covered LSN", StoreOptions.Num(info.CoveredLsn)),
                    ("bytes", StoreOptions.Num(info.Bytes)),
                    ("duration", $"{StoreOptions.Num(info.DurationMs)} ms"),
                    ("write stall", string.Create(CultureInfo.InvariantCulture, $"{info.WriteStallMs:F2} ms")),
                    ("WAL segments removed", keepLast is null ? "0 (no --keep-last)" : StoreOptions.Num(info.SegmentsRemoved)),
                    ("WAL segments compressed", compress ? StoreOptions.Num(info.SegmentsCompressed) : "0 (no --compress)"),
                    ("path", info.Path),
                ]);
        }

        return ExitCodes.Ok;
    }
}
