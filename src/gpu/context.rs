//! Creation of the process-wide wgpu context and its compute-pipeline cache.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use super::GpuError;

/// A WGSL shader compiled into the binary, named for the pipeline cache and logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Shader {
    pub name: &'static str,
    pub source: &'static str,
}

/// Density simulation, paper eq. 2.
pub const DENSITY_SHADER: Shader = Shader {
    name: "density.wgsl",
    source: include_str!("../../shaders/density.wgsl"),
};

/// Map-model correlation sums (PCC, masked PCC, eq. 6).
pub const CORRELATE_SHADER: Shader = Shader {
    name: "correlate.wgsl",
    source: include_str!("../../shaders/correlate.wgsl"),
};

/// Per-bead map energy for the assembly's batched Monte Carlo (eq. 6-7).
pub const EM_DELTA_SHADER: Shader = Shader {
    name: "em_delta.wgsl",
    source: include_str!("../../shaders/em_delta.wgsl"),
};

/// The instance, adapter, device and queue, plus compiled pipelines.
pub struct GpuContext {
    pub instance: wgpu::Instance,
    pub adapter: wgpu::Adapter,
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
    pub info: wgpu::AdapterInfo,
    pub limits: wgpu::Limits,
    pipelines: Mutex<HashMap<(&'static str, &'static str), wgpu::ComputePipeline>>,
}

impl std::fmt::Debug for GpuContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "GpuContext({})", self.describe())
    }
}

static CONTEXT: OnceLock<Result<GpuContext, GpuError>> = OnceLock::new();

/// The process-wide context, created on first use; the same error every time
/// when there is no usable adapter.
pub fn context() -> Result<&'static GpuContext, GpuError> {
    CONTEXT
        .get_or_init(|| pollster::block_on(create()))
        .as_ref()
        .map_err(Clone::clone)
}

/// Adapter preference: real GPUs first, software rasterisers last.
fn rank(t: wgpu::DeviceType) -> u8 {
    match t {
        wgpu::DeviceType::DiscreteGpu => 0,
        wgpu::DeviceType::IntegratedGpu => 1,
        wgpu::DeviceType::VirtualGpu => 2,
        wgpu::DeviceType::Other => 3,
        wgpu::DeviceType::Cpu => 4,
    }
}

/// Mesa's lavapipe warns on every start when XDG_RUNTIME_DIR is unset; give it a
/// private per-user directory (mode 0700, as the XDG spec requires) instead.
/// Skipped when that directory exists but is not a directory we own.
fn ensure_xdg_runtime_dir() {
    if std::env::var_os("XDG_RUNTIME_DIR").is_some() {
        return;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let Ok(uid) = std::fs::metadata("/proc/self").map(|m| m.uid()) else {
            return;
        };
        let dir = std::env::temp_dir().join(format!("mapfold-xdg-{uid}"));
        let _ = std::fs::create_dir(&dir);
        let Ok(meta) = std::fs::symlink_metadata(&dir) else {
            return;
        };
        if !meta.is_dir() || meta.uid() != uid {
            return;
        }
        if std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).is_err() {
            return;
        }
        // Called once, from the OnceLock initialiser, before wgpu starts any thread.
        std::env::set_var("XDG_RUNTIME_DIR", &dir);
    }
}

async fn create() -> Result<GpuContext, GpuError> {
    ensure_xdg_runtime_dir();
    // Vulkan, Metal, DX12 (WGPU_BACKEND overrides); GL lacks what compute needs.
    let mut desc = wgpu::InstanceDescriptor::new_without_display_handle().with_env();
    if std::env::var_os("WGPU_BACKEND").is_none() {
        desc.backends = wgpu::Backends::PRIMARY;
    }
    let backends = desc.backends;
    let instance = wgpu::Instance::new(desc);
    let adapters = instance.enumerate_adapters(backends).await;
    for a in &adapters {
        let i = a.get_info();
        log::debug!(
            "adapter found: {} ({:?}, {:?})",
            i.name,
            i.device_type,
            i.backend
        );
    }
    let adapter = adapters
        .into_iter()
        .min_by_key(|a| rank(a.get_info().device_type))
        .ok_or_else(|| GpuError::NoAdapter(format!("{backends:?}")))?;
    let info = adapter.get_info();
    let limits = adapter.limits();
    let (device, queue) = adapter
        .request_device(&wgpu::DeviceDescriptor {
            label: Some("mapfold"),
            required_features: wgpu::Features::empty(),
            required_limits: limits.clone(),
            experimental_features: wgpu::ExperimentalFeatures::disabled(),
            memory_hints: wgpu::MemoryHints::Performance,
            trace: wgpu::Trace::Off,
        })
        .await
        .map_err(|e| GpuError::Device {
            adapter: info.name.clone(),
            message: e.to_string(),
        })?;
    Ok(GpuContext {
        instance,
        adapter,
        device,
        queue,
        info,
        limits,
        pipelines: Mutex::new(HashMap::new()),
    })
}

impl GpuContext {
    /// True for software adapters (lavapipe, llvmpipe, WARP).
    pub fn is_software(&self) -> bool {
        self.info.device_type == wgpu::DeviceType::Cpu
    }

    /// "name (type, backend)".
    pub fn describe(&self) -> String {
        format!(
            "{} ({:?}, {:?})",
            self.info.name, self.info.device_type, self.info.backend
        )
    }

    /// The largest storage buffer one binding may hold, in bytes.
    pub fn max_binding_bytes(&self) -> u64 {
        self.limits
            .max_storage_buffer_binding_size
            .min(self.limits.max_buffer_size)
    }

    /// The compute pipeline for a shader's entry point, compiled once per process.
    /// Bind groups use the layout the shader implies (`get_bind_group_layout`).
    pub fn pipeline(&self, shader: Shader, entry: &'static str) -> wgpu::ComputePipeline {
        let mut cache = self.pipelines.lock().unwrap_or_else(|p| p.into_inner());
        cache
            .entry((shader.name, entry))
            .or_insert_with(|| {
                let module = self
                    .device
                    .create_shader_module(wgpu::ShaderModuleDescriptor {
                        label: Some(shader.name),
                        source: wgpu::ShaderSource::Wgsl(shader.source.into()),
                    });
                self.device
                    .create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                        label: Some(entry),
                        layout: None,
                        module: &module,
                        entry_point: Some(entry),
                        compilation_options: Default::default(),
                        cache: None,
                    })
            })
            .clone()
    }

    /// A bind group for group 0 of `pipeline`, binding buffers in order 0, 1, 2, ...
    pub fn bind_buffers(
        &self,
        pipeline: &wgpu::ComputePipeline,
        buffers: &[&wgpu::Buffer],
    ) -> wgpu::BindGroup {
        let layout = pipeline.get_bind_group_layout(0);
        let entries: Vec<wgpu::BindGroupEntry> = buffers
            .iter()
            .enumerate()
            .map(|(i, b)| wgpu::BindGroupEntry {
                binding: i as u32,
                resource: b.as_entire_binding(),
            })
            .collect();
        self.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: None,
            layout: &layout,
            entries: &entries,
        })
    }

    /// Records one dispatch of `pipeline` with `bind_group`.
    pub fn dispatch(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        pipeline: &wgpu::ComputePipeline,
        bind_group: &wgpu::BindGroup,
        workgroups: [u32; 3],
    ) {
        let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
            label: None,
            timestamp_writes: None,
        });
        pass.set_pipeline(pipeline);
        pass.set_bind_group(0, bind_group, &[]);
        pass.dispatch_workgroups(workgroups[0], workgroups[1], workgroups[2]);
    }
}
