//! The polling-efficiency benchmark (`jobpoll-sim bench-policies`).

/// Arguments of `jobpoll-sim bench-policies`.
#[derive(Clone, Debug, clap::Args)]
pub struct BenchArgs {
    /// Number of jobs.
    #[arg(long, default_value_t = 20_000)]
    pub jobs: usize,
    /// Root seed of the workload.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Where to write the CSV table.
    #[arg(long, default_value = "target/policy-bench.csv")]
    pub csv: std::path::PathBuf,
    /// Where to write the SVG chart.
    #[arg(long, default_value = "target/policy-bench.svg")]
    pub svg: std::path::PathBuf,
}

/// Runs the benchmark and prints the table.
pub fn run_command(args: &BenchArgs) -> Result<(), Box<dyn std::error::Error>> {
    let _ = args;
    Err("not built yet".into())
}
