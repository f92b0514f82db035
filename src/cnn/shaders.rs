//! The network's WGSL kernels, compiled into the binary. The host-side wgpu
//! dispatch is `src/cnn/gpu.rs` (wired once the GPU runtime is merged); the
//! shaders are validated here with naga so that a broken kernel fails in
//! `cargo test` on any machine, GPU or not.

/// 3D convolution, one z-slab per dispatch (entry `conv3d`).
pub const CONV3D_WGSL: &str = include_str!("../../shaders/conv3d.wgsl");
/// Instance norm: `partial_sums`, `finalize`, `apply`.
pub const INSTANCE_NORM_WGSL: &str = include_str!("../../shaders/instance_norm.wgsl");
/// `relu`, `add_relu`, `softmax2`.
pub const ELEMENTWISE_WGSL: &str = include_str!("../../shaders/cnn_elementwise.wgsl");

#[cfg(test)]
mod tests {
    use super::*;

    fn validate(name: &str, src: &str, entries: &[&str]) {
        let module = naga::front::wgsl::parse_str(src)
            .unwrap_or_else(|e| panic!("{name}: {}", e.emit_to_string(src)));
        naga::valid::Validator::new(
            naga::valid::ValidationFlags::all(),
            naga::valid::Capabilities::empty(),
        )
        .validate(&module)
        .unwrap_or_else(|e| panic!("{name}: {e:?}"));
        let found: Vec<&str> = module
            .entry_points
            .iter()
            .map(|e| e.name.as_str())
            .collect();
        for e in entries {
            assert!(
                found.contains(e),
                "{name}: entry point {e} missing (have {found:?})"
            );
        }
    }

    #[test]
    fn conv3d_shader_validates() {
        validate("conv3d.wgsl", CONV3D_WGSL, &["conv3d"]);
    }

    #[test]
    fn instance_norm_shader_validates() {
        validate(
            "instance_norm.wgsl",
            INSTANCE_NORM_WGSL,
            &["partial_sums", "finalize", "apply"],
        );
    }

    #[test]
    fn elementwise_shader_validates() {
        validate(
            "cnn_elementwise.wgsl",
            ELEMENTWISE_WGSL,
            &["relu", "add_relu", "softmax2"],
        );
    }
}
