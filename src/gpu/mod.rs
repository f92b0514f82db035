//! The one wgpu context of the process and the GPU-or-CPU choice.
//!
//! Every kernel family (density simulation, eq. 2; map-model correlation, eq. 6)
//! has a WGSL shader in `shaders/` and a rayon twin on the CPU; [`Backend`] says
//! which one runs. The context ([`GpuContext`]) is created lazily, once, the
//! first time a GPU backend is asked for: instance, best adapter, device, queue.
//!
//! Choice rules ([`Backend::select`]): `auto` takes a real GPU when there is one
//! and otherwise the CPU — software adapters (lavapipe, llvmpipe, WARP report
//! `DeviceType::Cpu`) are slower than rayon, so they count as none; `gpu` takes
//! any adapter, software ones included, and is an error when there is none;
//! `cpu` is the rayon path.

mod buffers;
mod context;

pub use buffers::{output_buffer, readback_f32, storage_buffer, uniform_buffer, Readback};
pub use context::{context, GpuContext, Shader, CORRELATE_SHADER, DENSITY_SHADER, EM_DELTA_SHADER};

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

/// Why no GPU context could be made.
#[derive(Debug, Clone, thiserror::Error)]
pub enum GpuError {
    #[error("no GPU adapter found (wgpu backends tried: {0}); use --device cpu or install a Vulkan/Metal/DX12 driver")]
    NoAdapter(String),
    #[error("GPU adapter '{adapter}' refused to create a device: {message}")]
    Device { adapter: String, message: String },
}

/// Where kernels run.
#[derive(Debug, Clone, Copy)]
pub enum Backend {
    /// The rayon path on the CPU.
    Cpu,
    /// The process-wide wgpu context.
    Gpu(&'static GpuContext),
}

impl Backend {
    /// Resolves a [`DeviceChoice`] (see the module doc for the rules) and logs
    /// the decision with the adapter name.
    pub fn select(choice: DeviceChoice) -> Result<Backend, GpuError> {
        match choice {
            DeviceChoice::Cpu => {
                log::info!("device: CPU (rayon), as asked");
                Ok(Backend::Cpu)
            }
            DeviceChoice::Gpu => {
                let ctx = context()?;
                log::info!("device: GPU adapter {}", ctx.describe());
                Ok(Backend::Gpu(ctx))
            }
            DeviceChoice::Auto => match context() {
                Ok(ctx) if !ctx.is_software() => {
                    log::info!("device: GPU adapter {}", ctx.describe());
                    Ok(Backend::Gpu(ctx))
                }
                Ok(ctx) => {
                    log::info!(
                        "device: CPU (rayon); the only adapter is software ({}); --device gpu would use it",
                        ctx.describe()
                    );
                    Ok(Backend::Cpu)
                }
                Err(e) => {
                    log::info!("device: CPU (rayon); {e}");
                    Ok(Backend::Cpu)
                }
            },
        }
    }

    /// Short human-readable name, e.g. `cpu` or `gpu: NVIDIA ... (Vulkan)`.
    pub fn name(&self) -> String {
        match self {
            Backend::Cpu => "cpu".to_string(),
            Backend::Gpu(ctx) => format!("gpu: {}", ctx.describe()),
        }
    }
}

/// For tests that need a GPU adapter (software ones included): the context, or
/// `None` after printing "SKIPPED ..." when there is none. With
/// `MAPFOLD_REQUIRE_GPU=1` a missing adapter is a failure instead, so that a CI
/// job meant to exercise the kernels cannot pass by skipping.
pub fn gpu_for_test(test: &str) -> Option<&'static GpuContext> {
    match context() {
        Ok(ctx) => Some(ctx),
        Err(e) => {
            if std::env::var("MAPFOLD_REQUIRE_GPU").is_ok_and(|v| v == "1") {
                panic!("{test}: MAPFOLD_REQUIRE_GPU=1 but {e}");
            }
            eprintln!("SKIPPED {test}: {e}");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    /// Every shader in `shaders/` parses and validates with naga (no GPU needed),
    /// so a broken kernel fails here rather than as a wgpu panic at run time.
    #[test]
    fn every_shader_validates_with_naga() {
        let dir = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/shaders"));
        let mut n = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().and_then(|e| e.to_str()) != Some("wgsl") {
                continue;
            }
            let src = std::fs::read_to_string(&path).unwrap();
            let module = naga::front::wgsl::parse_str(&src)
                .unwrap_or_else(|e| panic!("{}: {}", path.display(), e.emit_to_string(&src)));
            naga::valid::Validator::new(
                naga::valid::ValidationFlags::all(),
                naga::valid::Capabilities::default(),
            )
            .validate(&module)
            .unwrap_or_else(|e| panic!("{}: {e:?}", path.display()));
            n += 1;
        }
        assert!(
            n >= 2,
            "expected the density and correlate shaders, found {n}"
        );
    }

    #[test]
    fn cpu_choice_is_cpu() {
        assert!(matches!(
            super::Backend::select(super::DeviceChoice::Cpu).unwrap(),
            super::Backend::Cpu
        ));
    }
}
