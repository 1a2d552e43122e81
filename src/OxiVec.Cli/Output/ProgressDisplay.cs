using System.Globalization;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace OxiVec.Cli.Output;

/// <summary>
/// Progress bars for long writes (load, import, the demo): Spectre.Console bars with the rate and the time left on a
/// terminal, nothing at all otherwise (scripts read the summary line printed afterwards).
/// </summary>
internal sealed class ProgressDisplay
{
    private static readonly ProgressDisplay Hidden = new(null);
    private readonly ProgressContext? _context;

    private ProgressDisplay(ProgressContext? context) => _context = context;

    /// <summary>
    /// Runs <paramref name="work"/>, with live progress bars when <paramref name="show"/> is true and stdout is a
    /// terminal. The bars stay on screen when the work ends.
    /// </summary>
    public static T Run<T>(bool show, Func<ProgressDisplay, T> work)
    {
        if (!show || !Cli.IsInteractive)
        {
            return work(Hidden);
        }

        return AnsiConsole.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(
                new TaskDescriptionColumn(),
                new ProgressBarColumn { Width = 24 },
                new PercentageColumn(),
                new CountColumn(),
                new RateColumn(),
                new RemainingTimeColumn())
            .Start(context => work(new ProgressDisplay(context)));
    }

    /// <summary>A bar going from 0 to <paramref name="total"/> (plain text, not markup).</summary>
    public Bar Add(string description, long total) =>
        new(_context?.AddTask(Markup.Escape(description), autoStart: true, maxValue: Math.Max(1, total)));

    /// <summary>One bar (a no-op when progress is hidden).</summary>
    internal sealed class Bar(ProgressTask? task)
    {
        public void Advance(long count) => task?.Increment(count);

        /// <summary>Moves the bar to <paramref name="value"/>.</summary>
        public void Set(long value)
        {
            if (task is not null)
            {
                task.Value = value;
            }
        }

        /// <summary>Marks the bar done (full), e.g. after an empty input.</summary>
        public void Complete()
        {
            if (task is not null)
            {
                task.Value = task.MaxValue;
                task.StopTask();
            }
        }

        /// <summary>Stops the bar where it is (after a failure or an interruption).</summary>
        public void Stop() => task?.StopTask();
    }

    /// <summary>"12,345/50,000".</summary>
    private sealed class CountColumn : ProgressColumn
    {
        protected override bool NoWrap => true;

        public override IRenderable Render(RenderOptions options, ProgressTask task, TimeSpan deltaTime) =>
            new Text(string.Create(CultureInfo.InvariantCulture, $"{task.Value:N0}/{task.MaxValue:N0}"), new Style(Color.Grey));
    }

    /// <summary>"4,321/s" (records per second).</summary>
    private sealed class RateColumn : ProgressColumn
    {
        protected override bool NoWrap => true;

        public override IRenderable Render(RenderOptions options, ProgressTask task, TimeSpan deltaTime)
        {
            double? speed = task.IsFinished && task.ElapsedTime is { TotalSeconds: > 0 } elapsed
                ? task.Value / elapsed.TotalSeconds
                : task.Speed;
            return new Text(speed is { } s ? string.Create(CultureInfo.InvariantCulture, $"{s:N0}/s") : "", new Style(Color.Aqua));
        }
    }
}
