//! The network's weights file: safetensors, little-endian f32 tensors.
//!
//! Tensor names (C = channels, k = head kernel edge, i = 0..blocks):
//!
//! | name | shape |
//! |---|---|
//! | `stem.conv.weight` | [C, 1, 3, 3, 3] |
//! | `stem.conv.bias` | `[C]` |
//! | `stem.norm.weight`, `stem.norm.bias` | `[C]` (instance-norm γ, β) |
//! | `blocks.{i}.conv1.weight`, `blocks.{i}.conv2.weight` | [C, C, 3, 3, 3] |
//! | `blocks.{i}.conv1.bias`, `blocks.{i}.conv2.bias` | `[C]` |
//! | `blocks.{i}.norm1.weight`, `.norm1.bias`, `.norm2.weight`, `.norm2.bias` | `[C]` |
//! | `head.conv.weight` | [2, C, k, k, k], k = 1 or 3 |
//! | `head.conv.bias` | `[2]` |
//!
//! `__metadata__` (all values strings): `architecture` = "cr-i-tasser-resnet3d",
//! `channels`, `blocks`, `voxel_size` (Å), `training_data`, `split`, `epochs`,
//! `validation_crscore` (a number, or empty when not measured). Loading checks
//! every shape against `channels`/`blocks` and rejects missing or extra tensors,
//! so a file and its metadata cannot silently disagree.

use std::collections::HashMap;
use std::path::Path;

use safetensors::tensor::{Dtype, TensorView};
use safetensors::SafeTensors;

use super::network::{BasicBlock, CaNetwork, Conv3d, InstanceNorm, NetworkMeta, ARCHITECTURE};
use crate::io::FileError;

/// Reads a weights file (gzip allowed).
pub fn load_weights(path: &Path) -> Result<CaNetwork, FileError> {
    let bytes = crate::io::read_bytes(path)?;
    weights_from_bytes(&bytes).map_err(|m| FileError::format(path, m))
}

/// Writes a weights file atomically.
pub fn save_weights(net: &CaNetwork, path: &Path) -> Result<(), FileError> {
    let bytes = weights_to_bytes(net).map_err(|m| FileError::format(path, m))?;
    crate::io::write_atomically(path, &bytes)
}

/// Serialises to safetensors bytes.
pub fn weights_to_bytes(net: &CaNetwork) -> Result<Vec<u8>, String> {
    let mut tensors: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
    let mut push = |name: String, shape: Vec<usize>, v: &[f32]| {
        tensors.push((
            name,
            shape,
            v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        ));
    };
    let mut conv = |p: &str, c: &Conv3d| {
        push(format!("{p}.weight"), c.weight_shape().to_vec(), &c.weight);
        push(format!("{p}.bias"), vec![c.cout], &c.bias);
    };
    conv("stem.conv", &net.stem_conv);
    for (i, b) in net.blocks.iter().enumerate() {
        conv(&format!("blocks.{i}.conv1"), &b.conv1);
        conv(&format!("blocks.{i}.conv2"), &b.conv2);
    }
    conv("head.conv", &net.head);
    let mut norm = |p: &str, n: &InstanceNorm| {
        push(format!("{p}.weight"), vec![n.gamma.len()], &n.gamma);
        push(format!("{p}.bias"), vec![n.beta.len()], &n.beta);
    };
    norm("stem.norm", &net.stem_norm);
    for (i, b) in net.blocks.iter().enumerate() {
        norm(&format!("blocks.{i}.norm1"), &b.norm1);
        norm(&format!("blocks.{i}.norm2"), &b.norm2);
    }
    let m = &net.meta;
    let meta: HashMap<String, String> = [
        ("architecture", ARCHITECTURE.to_string()),
        ("channels", m.channels.to_string()),
        ("blocks", m.blocks.to_string()),
        ("voxel_size", m.voxel_size.to_string()),
        ("training_data", m.training_data.clone()),
        ("split", m.split.clone()),
        ("epochs", m.epochs.to_string()),
        (
            "validation_crscore",
            m.validation_crscore
                .map(|v| v.to_string())
                .unwrap_or_default(),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    serialize_f32(&tensors, meta).map_err(|e| format!("cannot serialise weights: {e}"))
}

/// Little-endian f32 tensors `(name, shape, bytes)` and string metadata as
/// safetensors bytes: the one serialiser behind weights and training checkpoints.
pub(crate) fn serialize_f32(
    tensors: &[(String, Vec<usize>, Vec<u8>)],
    meta: HashMap<String, String>,
) -> Result<Vec<u8>, String> {
    let views = tensors
        .iter()
        .map(|(n, s, d)| {
            TensorView::new(Dtype::F32, s.clone(), d)
                .map(|v| (n.clone(), v))
                .map_err(|e| format!("tensor {n}: {e}"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    safetensors::serialize(views, Some(meta)).map_err(|e| e.to_string())
}

/// Safetensors bytes with their `__metadata__` (if any): the one parser behind
/// weights and training checkpoints.
pub(crate) fn deserialize_with_metadata(
    bytes: &[u8],
) -> Result<(SafeTensors<'_>, Option<HashMap<String, String>>), String> {
    let st = SafeTensors::deserialize(bytes).map_err(|e| format!("not a safetensors file: {e}"))?;
    let (_, header) =
        SafeTensors::read_metadata(bytes).map_err(|e| format!("not a safetensors file: {e}"))?;
    Ok((st, header.metadata().clone()))
}

/// Parses safetensors bytes; the error says which tensor or metadata key is wrong.
pub fn weights_from_bytes(bytes: &[u8]) -> Result<CaNetwork, String> {
    let (st, md) = deserialize_with_metadata(bytes)?;
    let md = md.ok_or("no __metadata__ (need architecture, channels, blocks, voxel_size)")?;
    let get = |k: &str| md.get(k).map(String::as_str);
    let need = |k: &str| get(k).ok_or_else(|| format!("metadata key '{k}' is missing"));
    let arch = need("architecture")?;
    if arch != ARCHITECTURE {
        return Err(format!(
            "metadata architecture is '{arch}', expected '{ARCHITECTURE}'"
        ));
    }
    let parse_usize = |k: &str| -> Result<usize, String> {
        let s = need(k)?;
        s.trim()
            .parse::<usize>()
            .ok()
            .filter(|&v| v > 0)
            .ok_or_else(|| format!("metadata '{k}' = '{s}' is not a positive integer"))
    };
    let channels = parse_usize("channels")?;
    let blocks = parse_usize("blocks")?;
    let vs = need("voxel_size")?;
    let voxel_size = vs
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v > 0.0)
        .ok_or_else(|| format!("metadata 'voxel_size' = '{vs}' is not a positive number of Å"))?;
    let epochs = match get("epochs").map(str::trim) {
        None | Some("") => 0,
        Some(s) => s
            .parse()
            .map_err(|_| format!("metadata 'epochs' = '{s}' is not an integer"))?,
    };
    let validation_crscore = match get("validation_crscore").map(str::trim) {
        None | Some("") => None,
        Some(s) => Some(
            s.parse::<f64>()
                .map_err(|_| format!("metadata 'validation_crscore' = '{s}' is not a number"))?,
        ),
    };

    let mut used = std::collections::HashSet::new();
    let mut tensor = |name: String, shape: &[usize]| -> Result<Vec<f32>, String> {
        let t = st.tensor(&name).map_err(|_| {
            format!(
                "tensor '{name}' is missing (metadata says channels={channels}, blocks={blocks})"
            )
        })?;
        if t.dtype() != Dtype::F32 {
            return Err(format!("tensor '{name}' is {:?}, expected F32", t.dtype()));
        }
        if t.shape() != shape {
            return Err(format!(
                "tensor '{name}' has shape {:?}, expected {shape:?} (channels={channels})",
                t.shape()
            ));
        }
        let v: Vec<f32> = t
            .data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        if let Some(i) = v.iter().position(|x| !x.is_finite()) {
            return Err(format!("tensor '{name}' has a non-finite value at {i}"));
        }
        used.insert(name);
        Ok(v)
    };
    let c = channels;
    // The head kernel is whatever the file holds (1 or 3); everything else is fixed.
    let head_shape = st
        .tensor("head.conv.weight")
        .map(|t| t.shape().to_vec())
        .map_err(|_| "tensor 'head.conv.weight' is missing".to_string())?;
    let head_kernel = match head_shape.as_slice() {
        [2, cc, k, k2, k3] if *cc == c && k == k2 && k == k3 && (*k == 1 || *k == 3) => *k,
        s => return Err(format!(
            "tensor 'head.conv.weight' has shape {s:?}, expected [2, {c}, k, k, k] with k = 1 or 3 (channels={c})"
        )),
    };
    let mut conv = |p: &str, cin: usize, cout: usize, k: usize| -> Result<Conv3d, String> {
        Ok(Conv3d {
            cin,
            cout,
            k,
            weight: tensor(format!("{p}.weight"), &[cout, cin, k, k, k])?,
            bias: tensor(format!("{p}.bias"), &[cout])?,
        })
    };
    let stem_conv = conv("stem.conv", 1, c, 3)?;
    let mut convs = Vec::with_capacity(blocks);
    for i in 0..blocks {
        convs.push((
            conv(&format!("blocks.{i}.conv1"), c, c, 3)?,
            conv(&format!("blocks.{i}.conv2"), c, c, 3)?,
        ));
    }
    let head = conv("head.conv", c, 2, head_kernel)?;
    let mut norm = |p: &str| -> Result<InstanceNorm, String> {
        Ok(InstanceNorm {
            gamma: tensor(format!("{p}.weight"), &[c])?,
            beta: tensor(format!("{p}.bias"), &[c])?,
        })
    };
    let stem_norm = norm("stem.norm")?;
    let mut block_list = Vec::with_capacity(blocks);
    for (i, (conv1, conv2)) in convs.into_iter().enumerate() {
        block_list.push(BasicBlock {
            conv1,
            norm1: norm(&format!("blocks.{i}.norm1"))?,
            conv2,
            norm2: norm(&format!("blocks.{i}.norm2"))?,
        });
    }
    let mut extra: Vec<&str> = st
        .names()
        .into_iter()
        .filter(|n| !used.contains(*n))
        .collect();
    if !extra.is_empty() {
        extra.sort();
        return Err(format!(
            "unexpected tensors {extra:?} (metadata says channels={channels}, blocks={blocks})"
        ));
    }
    Ok(CaNetwork {
        meta: NetworkMeta {
            channels,
            blocks,
            head_kernel,
            voxel_size,
            training_data: get("training_data").unwrap_or("").to_string(),
            split: get("split").unwrap_or("").to_string(),
            epochs,
            validation_crscore,
        },
        stem_conv,
        stem_norm,
        blocks: block_list,
        head,
    })
}
