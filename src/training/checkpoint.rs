//! Resumable training state in one safetensors file: the current weights
//! (`net.*`), the best weights so far (`best.*`), Adam's moments (`adam.m.*`,
//! `adam.v.*`; tensor names after the prefix as in the weights file), and
//! metadata: `format`, `config` (JSON of [`TrainConfig`]), `step`, `adam_t`,
//! `best_crscore`, `best_step`, `history` (JSON list of validation points),
//! `channels`, `blocks`, `head_kernel`. Written atomically, so a run killed
//! mid-write leaves the previous checkpoint intact.

use std::collections::HashMap;
use std::path::Path;

use safetensors::tensor::Dtype;

use super::adam::Adam;
use super::params::{tensors, tensors_mut};
use super::trainer::{TrainConfig, TrainState, ValPoint};
use crate::cnn::{CaNetwork, NetworkMeta};
use crate::io::FileError;

const FORMAT: &str = "mapfold-train-checkpoint-1";

/// Writes `state` to `path` atomically.
pub fn save_checkpoint(state: &TrainState, path: &Path) -> Result<(), FileError> {
    let bytes = checkpoint_to_bytes(state).map_err(|m| FileError::format(path, m))?;
    crate::io::write_atomically(path, &bytes)
}

/// Reads a checkpoint written by [`save_checkpoint`].
pub fn load_checkpoint(path: &Path) -> Result<TrainState, FileError> {
    let bytes = crate::io::read_bytes(path)?;
    checkpoint_from_bytes(&bytes).map_err(|m| FileError::format(path, m))
}

fn le_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

pub fn checkpoint_to_bytes(state: &TrainState) -> Result<Vec<u8>, String> {
    let mut owned: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
    let mut add = |prefix: &str, net: &CaNetwork| {
        for (name, shape, v) in tensors(net) {
            owned.push((format!("{prefix}.{name}"), shape, le_bytes(v)));
        }
    };
    add("net", &state.net);
    add("adam.m", &state.adam.m);
    add("adam.v", &state.adam.v);
    if let Some(b) = &state.best {
        add("best", &b.net);
    }
    let meta: HashMap<String, String> = [
        ("format", FORMAT.to_string()),
        (
            "config",
            serde_json::to_string(&state.config).map_err(|e| e.to_string())?,
        ),
        ("step", state.step.to_string()),
        ("adam_t", state.adam.t.to_string()),
        (
            "best_crscore",
            state
                .best
                .as_ref()
                .map(|b| b.crscore.to_string())
                .unwrap_or_default(),
        ),
        (
            "best_step",
            state
                .best
                .as_ref()
                .map(|b| b.step.to_string())
                .unwrap_or_default(),
        ),
        (
            "history",
            serde_json::to_string(&state.history).map_err(|e| e.to_string())?,
        ),
        ("channels", state.net.meta.channels.to_string()),
        ("blocks", state.net.meta.blocks.to_string()),
        ("head_kernel", state.net.meta.head_kernel.to_string()),
        ("voxel_size", state.net.meta.voxel_size.to_string()),
        ("training_data", state.net.meta.training_data.clone()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    crate::cnn::weights::serialize_f32(&owned, meta)
        .map_err(|e| format!("cannot serialise checkpoint: {e}"))
}

pub fn checkpoint_from_bytes(bytes: &[u8]) -> Result<TrainState, String> {
    let (st, md) = crate::cnn::weights::deserialize_with_metadata(bytes)?;
    let md = md.ok_or("no __metadata__: not a training checkpoint")?;
    let need = |k: &str| {
        md.get(k)
            .map(String::as_str)
            .ok_or_else(|| format!("metadata key '{k}' is missing (not a training checkpoint?)"))
    };
    if need("format")? != FORMAT {
        return Err(format!("metadata format is not '{FORMAT}'"));
    }
    let num = |k: &str| -> Result<u64, String> {
        let s = need(k)?;
        s.parse()
            .map_err(|_| format!("metadata '{k}' = '{s}' is not an integer"))
    };
    let config: TrainConfig =
        serde_json::from_str(need("config")?).map_err(|e| format!("metadata 'config': {e}"))?;
    let history: Vec<ValPoint> =
        serde_json::from_str(need("history")?).map_err(|e| format!("metadata 'history': {e}"))?;
    let voxel_size: f64 = need("voxel_size")?
        .parse()
        .map_err(|_| "metadata 'voxel_size' is not a number".to_string())?;
    let meta = NetworkMeta {
        channels: num("channels")? as usize,
        blocks: num("blocks")? as usize,
        head_kernel: num("head_kernel")? as usize,
        voxel_size,
        training_data: md.get("training_data").cloned().unwrap_or_default(),
        split: String::new(),
        epochs: 0,
        validation_crscore: None,
    };
    if meta.head_kernel != 1 && meta.head_kernel != 3 {
        return Err("metadata 'head_kernel' must be 1 or 3".into());
    }
    let template = CaNetwork::random(meta, 0);
    let fill = |prefix: &str| -> Result<CaNetwork, String> {
        let mut net = template.clone();
        let names: Vec<(String, Vec<usize>)> = tensors(&template)
            .into_iter()
            .map(|(n, s, _)| (n, s))
            .collect();
        for ((name, shape), dst) in names.into_iter().zip(tensors_mut(&mut net)) {
            let full = format!("{prefix}.{name}");
            let t = st
                .tensor(&full)
                .map_err(|_| format!("tensor '{full}' is missing"))?;
            if t.dtype() != Dtype::F32 || t.shape() != shape.as_slice() {
                return Err(format!(
                    "tensor '{full}' has shape {:?}, expected F32 {shape:?}",
                    t.shape()
                ));
            }
            for (d, b) in dst.iter_mut().zip(t.data().chunks_exact(4)) {
                *d = f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
            }
            if dst.iter().any(|v| !v.is_finite()) {
                return Err(format!("tensor '{full}' has non-finite values"));
            }
        }
        Ok(net)
    };
    let net = fill("net")?;
    let mut adam = Adam::new(&net, config.lr);
    adam.m = fill("adam.m")?;
    adam.v = fill("adam.v")?;
    adam.t = num("adam_t")?;
    let best = match md.get("best_crscore").map(String::as_str) {
        None | Some("") => None,
        Some(s) => Some(super::trainer::Best {
            net: fill("best")?,
            crscore: s
                .parse()
                .map_err(|_| format!("metadata 'best_crscore' = '{s}' is not a number"))?,
            step: num("best_step")?,
        }),
    };
    Ok(TrainState {
        config,
        net,
        adam,
        step: num("step")?,
        best,
        history,
    })
}
