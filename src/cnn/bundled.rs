//! The shipped networks (`weights/`), compiled into the binary so that mapfold
//! is one file: network A (trained on clean simulated maps) and network B
//! (fine-tuned from A on realistically degraded maps). See `weights/README.md`
//! for how each was trained.

use super::CaNetwork;

/// Networks A and B as shipped, or why they cannot be had.
pub fn networks() -> Result<(CaNetwork, Option<CaNetwork>), String> {
    Err("this build has no trained Cα networks; pass --weights-a FILE".into())
}
