//! (in progress) The wgpu context and the GPU-or-CPU choice.

/// What the user asked for with `--device`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum DeviceChoice {
    /// A real GPU when there is one, else the CPU (a software adapter counts as none).
    #[default]
    Auto,
    /// A GPU adapter, software ones included; an error when there is none.
    Gpu,
    /// The CPU (rayon) path.
    Cpu,
}
