// The crash test kills real processes and measures nothing, but it shares 2 cores with the CLI tests' child
// processes: running the classes one after the other keeps each one's timing predictable.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
