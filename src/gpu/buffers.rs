//! Buffer helpers: upload, uniforms, and reading results back to the host.

use wgpu::util::DeviceExt;

use super::GpuContext;

/// A read-write storage buffer filled with `data` (at least 4 bytes: wgpu
/// rejects empty bindings, so an empty slice becomes one zero word).
pub fn storage_buffer<T: bytemuck::Pod>(ctx: &GpuContext, label: &str, data: &[T]) -> wgpu::Buffer {
    let bytes: &[u8] = bytemuck::cast_slice(data);
    let zero = [0u8; 4];
    ctx.device
        .create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some(label),
            contents: if bytes.is_empty() { &zero } else { bytes },
            usage: wgpu::BufferUsages::STORAGE
                | wgpu::BufferUsages::COPY_SRC
                | wgpu::BufferUsages::COPY_DST,
        })
}

/// An uninitialised (zeroed by wgpu) storage buffer of `len` f32 values.
pub fn output_buffer(ctx: &GpuContext, label: &str, len: usize) -> wgpu::Buffer {
    ctx.device.create_buffer(&wgpu::BufferDescriptor {
        label: Some(label),
        size: (len.max(1) * 4) as u64,
        usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
        mapped_at_creation: false,
    })
}

/// A uniform buffer holding one `#[repr(C)]` struct.
pub fn uniform_buffer<T: bytemuck::Pod>(ctx: &GpuContext, label: &str, value: &T) -> wgpu::Buffer {
    ctx.device
        .create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some(label),
            contents: bytemuck::bytes_of(value),
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
        })
}

/// A host-visible staging buffer for copying `bytes` out of a storage buffer.
pub struct Readback {
    buffer: wgpu::Buffer,
    bytes: u64,
}

impl Readback {
    pub fn new(ctx: &GpuContext, bytes: u64) -> Self {
        let buffer = ctx.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("readback"),
            size: bytes.max(4),
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        Readback { buffer, bytes }
    }

    /// Records the copy of the first `bytes` of `src` into the staging buffer.
    pub fn copy_from(&self, encoder: &mut wgpu::CommandEncoder, src: &wgpu::Buffer) {
        encoder.copy_buffer_to_buffer(src, 0, &self.buffer, 0, self.bytes);
    }

    /// Waits for the queue and returns the staged values (call after submit).
    pub fn read_f32(&self, ctx: &GpuContext) -> Vec<f32> {
        if self.bytes == 0 {
            return Vec::new();
        }
        let slice = self.buffer.slice(..self.bytes);
        let (tx, rx) = std::sync::mpsc::channel();
        slice.map_async(wgpu::MapMode::Read, move |r| {
            let _ = tx.send(r);
        });
        ctx.device
            .poll(wgpu::PollType::wait_indefinitely())
            .expect("GPU device lost while waiting for a kernel");
        rx.recv()
            .expect("map_async callback runs during poll")
            .expect("mapping a MAP_READ staging buffer cannot fail");
        let out = {
            let view = slice.get_mapped_range().expect("buffer was just mapped");
            bytemuck::cast_slice::<u8, f32>(&view).to_vec()
        };
        self.buffer.unmap();
        out
    }
}

/// Copies `len` f32 values of a storage buffer back to the host (one submit).
pub fn readback_f32(ctx: &GpuContext, src: &wgpu::Buffer, len: usize) -> Vec<f32> {
    let rb = Readback::new(ctx, (len * 4) as u64);
    let mut encoder = ctx
        .device
        .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: None });
    rb.copy_from(&mut encoder, src);
    ctx.queue.submit(Some(encoder.finish()));
    rb.read_f32(ctx)
}
