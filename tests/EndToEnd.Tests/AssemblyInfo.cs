// Each test class starts the whole system (Redis, Postgres, every service and sidecar): two at once would share two cores.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
