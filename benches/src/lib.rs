//! gosched's benchmark suites live in `benches/`, one criterion binary per
//! workload, each running gosched and its peers (tokio, smol,
//! async-channel) side by side in the same run. This library is empty: the
//! crate exists so that the peers are dependencies of the benchmarks alone.
//!
//! Run one suite with `cargo bench -p gosched-benches --bench executor`
//! on a quiet machine; `python3 scripts/bench_medians.py` prints the
//! medians and the gosched/peer ratios.
