using OxiVec.Transactions;

namespace OxiVec.Tests.Transactions.Coordinator;

/// <summary>A coordinator "crash" in this process: the step that matches throws, and so does every later step, so nothing after it runs.</summary>
internal sealed class CoordinatorCrashObserver(Func<TwoPhaseCommitStep, int, bool> crashAt) : ITwoPhaseCommitObserver
{
    private readonly Lock _lock = new();
    private readonly List<TwoPhaseCommitStep> _steps = [];
    private bool _crashed;

    public IReadOnlyList<TwoPhaseCommitStep> Steps
    {
        get
        {
            lock (_lock)
            {
                return [.. _steps];
            }
        }
    }

    public bool Crashed
    {
        get
        {
            lock (_lock)
            {
                return _crashed;
            }
        }
    }

    public void OnStep(TwoPhaseCommitStep current)
    {
        lock (_lock)
        {
            _crashed |= crashAt(current, _steps.Count);
            _steps.Add(current);
            if (_crashed)
            {
                throw new SimulatedCrashException(current);
            }
        }
    }
}

internal sealed class SimulatedCrashException(TwoPhaseCommitStep step) : Exception($"Simulated coordinator crash at {step.Kind} of {step.Gid} ({step.Participant})");
