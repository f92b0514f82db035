//! The shipped networks (`weights/`), compiled into the binary so that mapfold
//! is one file: network A (trained on clean simulated maps) and network B
//! (fine-tuned from A on realistically degraded maps). `weights/README.md`
//! says how each was trained; their safetensors metadata records the data,
//! steps and validation CRscore.

use super::{weights_from_bytes, CaNetwork};

const NET_A: &[u8] = include_bytes!("../../weights/ca_net_a.safetensors");
const NET_B: &[u8] = include_bytes!("../../weights/ca_net_b.safetensors");

/// Networks A and B as shipped.
pub fn networks() -> Result<(CaNetwork, Option<CaNetwork>), String> {
    let a = weights_from_bytes(NET_A).map_err(|e| format!("bundled network A: {e}"))?;
    let b = weights_from_bytes(NET_B).map_err(|e| format!("bundled network B: {e}"))?;
    Ok((a, Some(b)))
}

#[cfg(test)]
mod tests {
    #[test]
    fn bundled_networks_load() {
        let (a, b) = super::networks().unwrap();
        let b = b.expect("network B is bundled");
        for n in [&a, &b] {
            assert_eq!(n.meta.voxel_size, 1.0);
            assert!(n.meta.validation_crscore.is_some());
        }
    }
}
