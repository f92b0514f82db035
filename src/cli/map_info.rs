//! (in progress)

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print one JSON object on stdout.
    #[arg(long)]
    pub json: bool,
}

pub fn run(_args: &Args, _global: &super::Global) -> anyhow::Result<()> {
    anyhow::bail!("not implemented yet")
}
