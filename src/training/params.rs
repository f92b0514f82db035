//! The network's parameter tensors as a flat, named list, so that gradients,
//! Adam moments and checkpoints can treat every tensor alike. The names are
//! those of the weights file ([`crate::cnn::weights`]); gradients and Adam
//! moments are themselves held in a [`CaNetwork`] of the same shape.

use crate::cnn::{CaNetwork, Conv3d, InstanceNorm};

/// `(name, shape, values)` of every tensor, in a fixed order.
pub fn tensors(net: &CaNetwork) -> Vec<(String, Vec<usize>, &[f32])> {
    let mut out = Vec::new();
    fn push_conv<'a>(out: &mut Vec<(String, Vec<usize>, &'a [f32])>, p: &str, c: &'a Conv3d) {
        out.push((format!("{p}.weight"), c.weight_shape().to_vec(), &c.weight));
        out.push((format!("{p}.bias"), vec![c.cout], &c.bias));
    }
    fn push_norm<'a>(out: &mut Vec<(String, Vec<usize>, &'a [f32])>, p: &str, n: &'a InstanceNorm) {
        out.push((format!("{p}.weight"), vec![n.gamma.len()], &n.gamma));
        out.push((format!("{p}.bias"), vec![n.beta.len()], &n.beta));
    }
    push_conv(&mut out, "stem.conv", &net.stem_conv);
    push_norm(&mut out, "stem.norm", &net.stem_norm);
    for (i, b) in net.blocks.iter().enumerate() {
        push_conv(&mut out, &format!("blocks.{i}.conv1"), &b.conv1);
        push_norm(&mut out, &format!("blocks.{i}.norm1"), &b.norm1);
        push_conv(&mut out, &format!("blocks.{i}.conv2"), &b.conv2);
        push_norm(&mut out, &format!("blocks.{i}.norm2"), &b.norm2);
    }
    push_conv(&mut out, "head.conv", &net.head);
    out
}

/// The same tensors, mutable, in the same order as [`tensors`].
pub fn tensors_mut(net: &mut CaNetwork) -> Vec<&mut Vec<f32>> {
    let mut out: Vec<&mut Vec<f32>> = vec![
        &mut net.stem_conv.weight,
        &mut net.stem_conv.bias,
        &mut net.stem_norm.gamma,
        &mut net.stem_norm.beta,
    ];
    for b in &mut net.blocks {
        out.push(&mut b.conv1.weight);
        out.push(&mut b.conv1.bias);
        out.push(&mut b.norm1.gamma);
        out.push(&mut b.norm1.beta);
        out.push(&mut b.conv2.weight);
        out.push(&mut b.conv2.bias);
        out.push(&mut b.norm2.gamma);
        out.push(&mut b.norm2.beta);
    }
    out.push(&mut net.head.weight);
    out.push(&mut net.head.bias);
    out
}

/// A network of the same shape with every value zero (gradient / moment holder).
pub fn zeros_like(net: &CaNetwork) -> CaNetwork {
    let mut z = net.clone();
    for t in tensors_mut(&mut z) {
        t.iter_mut().for_each(|v| *v = 0.0);
    }
    z
}

/// Number of scalar parameters.
pub fn count(net: &CaNetwork) -> usize {
    tensors(net).iter().map(|t| t.2.len()).sum()
}
