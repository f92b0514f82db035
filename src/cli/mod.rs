//! The `mapfold` subcommands. Each file holds one command's arguments (clap) and
//! its `run`, which calls the library and prints either text or, with `--json`,
//! exactly one JSON object on stdout. Logs go to stderr.

pub mod bench;
pub mod bench_harness;
pub mod bench_stages;
pub mod build;
pub mod ca;
pub mod fit;
pub mod library;
pub mod map_info;
pub mod rebuild;
pub mod score;
pub mod simulate;
pub mod thread;
pub mod train;

use crate::gpu::DeviceChoice;

/// Options every command shares.
#[derive(Debug, Clone, Copy)]
pub struct Global {
    pub device: DeviceChoice,
}

/// Prints one JSON object on stdout.
pub fn print_json(value: &serde_json::Value) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).expect("JSON values always serialise")
    );
}
