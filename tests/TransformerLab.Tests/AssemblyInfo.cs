// Torch has one global RNG and uses both cores for each op: tests run one at a time so seeded runs are reproducible.
[assembly: Xunit.CollectionBehavior(DisableTestParallelization = true)]
