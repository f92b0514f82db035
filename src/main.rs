//! The `mapfold` command line: parses arguments and calls the library.

use clap::{Parser, Subcommand};
use mapfold::cli;
use mapfold::gpu::DeviceChoice;

#[derive(Parser)]
#[command(
    name = "mapfold",
    version,
    about = "Protein structure models from a cryo-EM map and a sequence"
)]
struct Cli {
    /// Where kernels run: a real GPU when present (auto), any GPU adapter (gpu), or the CPU.
    #[arg(long, value_enum, default_value_t = DeviceChoice::Auto, global = true)]
    device: DeviceChoice,
    /// More log output on stderr (-v info, -vv debug); RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Header fields and statistics of an MRC/CCP4 map.
    #[command(after_help = "Example:\n  mapfold map-info tests/data/emd5778_fragment.ccp4 --json")]
    MapInfo(cli::map_info::Args),
    /// Simulate the density of a model at a resolution (paper eq. 2).
    #[command(
        after_help = "Examples:\n  mapfold simulate --model tests/data/3j6b_9.pdb --resolution 4 --voxel 1.0 -o sim.mrc\n  mapfold simulate --model tests/data/3j6b_9.pdb --resolution 4 --like tests/data/emd2566_3j6b_9.mrc -o sim.mrc"
    )]
    Simulate(cli::simulate::Args),
    /// Compare a model with a reference: TM-score, RMSD, GDT-TS; structural alignment; CRscore.
    #[command(
        after_help = "Examples:\n  mapfold score --model decoy.pdb --reference native.pdb --json\n  mapfold score --model a.pdb --reference b.pdb --align\n  mapfold score --model ca_cloud.pdb --reference native.pdb --crscore"
    )]
    Score(cli::score::Args),
    /// How well a model fits a map: PCC over the grid, PCC in a mask around the atoms, CC (eq. 6).
    #[command(
        after_help = "Example:\n  mapfold fit --model tests/data/3j6b_9.pdb --map tests/data/emd2566_3j6b_9.mrc --resolution 3.2 --json"
    )]
    Fit(cli::fit::Args),
    /// A map to an unordered Cα cloud (PDB of CA atoms named UNK): CNN + peak picking, or a baseline.
    #[command(
        after_help = "Examples:\n  mapfold ca --map tests/data/emd2566_3j6b_9.mrc --length 195 --baseline greedy -o ca.pdb\n  mapfold ca --probability-map p_ca.mrc --length 195 -o ca.pdb --json"
    )]
    Ca(cli::ca::Args),
    /// Benchmarks over ../shared/data: with no subcommand the paper's Table 1 with baselines and plots; subcommands measure one stage.
    #[command(
        after_help = "Examples:\n  mapfold bench --set all --resolution-bins 2-5,5-15 -o bench_out\n  mapfold bench --set test --shard 3/16 -o shard_3 && mapfold bench merge shard_* -o all\n  mapfold bench ca --split test --resolutions 2,3,4,5,6,8,10 --method greedy -o bench_ca"
    )]
    Bench(Box<cli::bench::Args>),
    /// Threading template library: build one from structure files; retrain the SS predictor.
    #[command(
        after_help = "Examples:\n  mapfold library build ../shared/data/structures --split train,validation -o templates.lib\n  mapfold library build my_pdbs/ -o my.lib\n  mapfold library train-ssp --data ../shared/data -o weights/ssp.bin"
    )]
    Library(cli::library::Args),
    /// Thread a sequence against the template library (LOMETS-style meta-threading).
    #[command(
        after_help = "Examples:\n  mapfold thread --seq query.fasta --library templates.lib -o hits.tsv\n  mapfold thread --seq query.fasta --library templates.lib --exclude-identity 0.3 --exclude-id 0123_x_1abc_A -o hits.tsv --json\n  mapfold thread --seq query.fasta --library templates.lib --hhr query.hhr -o hits.tsv"
    )]
    Thread(cli::thread::Args),
    /// Train the Cα network on simulated maps of ../shared/data's train split (resumable).
    #[command(
        after_help = "Examples:\n  mapfold train --out weights/ca_net_a.safetensors --checkpoint weights/ca_net_a.ckpt.safetensors --channels 16 --blocks 4 --box 40 --time-budget 30 --degradation clean -v\n  mapfold train --out weights/ca_net_a.safetensors --checkpoint weights/ca_net_a.ckpt.safetensors --resume --steps 20000 -v\n  mapfold train --init weights/ca_net_a.safetensors --degradation realistic --out weights/ca_net_b.safetensors --checkpoint weights/ca_net_b.ckpt.safetensors --time-budget 15 -v"
    )]
    Train(cli::train::Args),
    /// The whole job: a map and a sequence to up to five ranked full-atom models with confidence.
    #[command(
        after_help = "Examples:\n  mapfold build --map examples/emd2566_3j6b_9.mrc --seq examples/3j6b_9.fasta --library examples/templates.lib -o out\n  mapfold build --map M.mrc --seq S.fasta --resolution 3.5 --seed 7 --time-budget 10 -o out --json"
    )]
    Build(cli::build::BuildArgs),
    /// The 40 starting models of the assembly: threading, re-selection against the Cα cloud, Cα traces, rigid fits.
    #[command(
        after_help = "Example:\n  mapfold templates --map M.mrc --seq S.fasta --library templates.lib -o templates/ --json"
    )]
    Templates(cli::build::TemplatesArgs),
    /// Full-atom model from a Cα trace (PULCHRA-like); or build its statistics from the train split.
    #[command(
        after_help = "Examples:\n  mapfold rebuild --ca ca.pdb --seq query.fasta -o full.pdb\n  mapfold rebuild --build-stats ../shared/data -o weights/fullatom.bin"
    )]
    Rebuild(cli::rebuild::Args),
}

/// Output piped into `head` and the like: once the reader has gone, Rust's
/// `println!` panics ("failed printing to stdout: Broken pipe"). The shell
/// convention is to stop quietly, with SIGPIPE's status (128 + 13); other
/// panics keep the default report.
fn quiet_on_broken_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let msg = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if msg.contains("failed printing to stdout") && msg.contains("Broken pipe") {
            std::process::exit(141);
        }
        default(info);
    }));
}

fn main() {
    quiet_on_broken_pipe();
    let args = Cli::parse();
    let level = match args.verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or(level))
        .target(env_logger::Target::Stderr)
        .init();
    let global = cli::Global {
        device: args.device,
    };
    let result = match &args.command {
        Command::MapInfo(a) => cli::map_info::run(a, &global),
        Command::Simulate(a) => cli::simulate::run(a, &global),
        Command::Score(a) => cli::score::run(a, &global),
        Command::Fit(a) => cli::fit::run(a, &global),
        Command::Ca(a) => cli::ca::run(a, &global),
        Command::Bench(a) => cli::bench::run(a, &global),
        Command::Library(a) => cli::library::run(a, &global),
        Command::Thread(a) => cli::thread::run(a, &global),
        Command::Train(a) => cli::train::run(a, &global),
        Command::Build(a) => cli::build::run_build(a, &global),
        Command::Templates(a) => cli::build::run_templates(a, &global),
        Command::Rebuild(a) => cli::rebuild::run(a, &global),
    };
    if let Err(e) = result {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}
