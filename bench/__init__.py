"""ordersync's benchmarks: ``python -m bench [--quick] [--only NAME]`` (see docs/performance.md)."""
