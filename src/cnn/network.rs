//! The Cα-detection network's parameters (paper, Methods, "Predicting Cα
//! locations using deep neural-network learning"; Supplementary Fig. 10a).
//!
//! stem: 3×3×3 conv 1→C, instance norm, ReLU; `blocks` residual basic blocks
//! (conv-IN-ReLU-conv-IN, add the block input, ReLU); head: conv C→2 and softmax.
//! Convolution weights are `[cout][cin][kz][ky][kx]` (PyTorch's Conv3d order with
//! D,H,W = z,y,x), so weights trained there load without transposition.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The `architecture` value written to and required in the weights metadata.
pub const ARCHITECTURE: &str = "cr-i-tasser-resnet3d";

/// What the weights file says about the network besides its tensors.
#[derive(Debug, Clone, PartialEq)]
pub struct NetworkMeta {
    /// Feature channels C (32 in the paper).
    pub channels: usize,
    /// Residual basic blocks B (10 in the paper).
    pub blocks: usize,
    /// Edge of the head convolution's kernel, 1 or 3 (the paper does not say;
    /// read from the `head.conv.weight` shape on load).
    pub head_kernel: usize,
    /// The grid spacing in Å the network was trained on; input maps must match.
    pub voxel_size: f64,
    /// Free text: which data set the weights were trained on.
    pub training_data: String,
    /// Free text: how the data set was split (e.g. "3088 train / 382 validation").
    pub split: String,
    pub epochs: u32,
    /// Mean CRscore on the validation set, when measured.
    pub validation_crscore: Option<f64>,
}

impl NetworkMeta {
    /// The paper's sizes (C = 32, B = 10) with a 1×1×1 head, for untrained weights.
    pub fn paper(voxel_size: f64) -> Self {
        NetworkMeta {
            channels: 32,
            blocks: 10,
            head_kernel: 1,
            voxel_size,
            training_data: "untrained".into(),
            split: String::new(),
            epochs: 0,
            validation_crscore: None,
        }
    }
}

/// One 3D convolution: `weight` is `[cout][cin][k][k][k]`, stride 1, zero 'same' padding.
#[derive(Debug, Clone, PartialEq)]
pub struct Conv3d {
    pub cin: usize,
    pub cout: usize,
    pub k: usize,
    pub weight: Vec<f32>,
    pub bias: Vec<f32>,
}

impl Conv3d {
    /// Kaiming-normal weights (std = √(2 / fan_in), fan_in = cin·k³; He et al. 2015,
    /// right for ReLU networks) and zero bias.
    pub fn kaiming(cin: usize, cout: usize, k: usize, rng: &mut ChaCha8Rng) -> Self {
        let fan_in = (cin * k * k * k) as f64;
        let std = (2.0 / fan_in).sqrt();
        let weight = (0..cout * cin * k * k * k)
            .map(|_| (std * standard_normal(rng)) as f32)
            .collect();
        Conv3d {
            cin,
            cout,
            k,
            weight,
            bias: vec![0.0; cout],
        }
    }

    /// `[cout, cin, k, k, k]`.
    pub fn weight_shape(&self) -> [usize; 5] {
        [self.cout, self.cin, self.k, self.k, self.k]
    }
}

/// Instance-norm affine parameters, one per channel.
#[derive(Debug, Clone, PartialEq)]
pub struct InstanceNorm {
    pub gamma: Vec<f32>,
    pub beta: Vec<f32>,
}

impl InstanceNorm {
    pub fn identity(channels: usize) -> Self {
        InstanceNorm {
            gamma: vec![1.0; channels],
            beta: vec![0.0; channels],
        }
    }
}

/// conv1-IN-ReLU-conv2-IN, + block input, ReLU.
#[derive(Debug, Clone, PartialEq)]
pub struct BasicBlock {
    pub conv1: Conv3d,
    pub norm1: InstanceNorm,
    pub conv2: Conv3d,
    pub norm2: InstanceNorm,
}

/// The whole network. Build with [`CaNetwork::random`] or load with
/// [`crate::cnn::load_weights`].
#[derive(Debug, Clone, PartialEq)]
pub struct CaNetwork {
    pub meta: NetworkMeta,
    pub stem_conv: Conv3d,
    pub stem_norm: InstanceNorm,
    pub blocks: Vec<BasicBlock>,
    /// Output channel 0 is class 0 ("no Cα"), channel 1 is class 1 ("Cα here").
    pub head: Conv3d,
}

impl CaNetwork {
    /// Seeded Kaiming initialisation (for tests and as the start of training).
    pub fn random(meta: NetworkMeta, seed: u64) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let c = meta.channels;
        let stem_conv = Conv3d::kaiming(1, c, 3, &mut rng);
        let blocks = (0..meta.blocks)
            .map(|_| BasicBlock {
                conv1: Conv3d::kaiming(c, c, 3, &mut rng),
                norm1: InstanceNorm::identity(c),
                conv2: Conv3d::kaiming(c, c, 3, &mut rng),
                norm2: InstanceNorm::identity(c),
            })
            .collect();
        let head = Conv3d::kaiming(c, 2, meta.head_kernel, &mut rng);
        CaNetwork {
            stem_norm: InstanceNorm::identity(c),
            meta,
            stem_conv,
            blocks,
            head,
        }
    }

    /// Multiply–add count of one forward pass per voxel, times two (FLOPs/voxel).
    pub fn flops_per_voxel(&self) -> f64 {
        let conv = |c: &Conv3d| 2.0 * (c.cin * c.cout * c.k * c.k * c.k) as f64;
        conv(&self.stem_conv)
            + self
                .blocks
                .iter()
                .map(|b| conv(&b.conv1) + conv(&b.conv2))
                .sum::<f64>()
            + conv(&self.head)
    }
}

/// Box–Muller: `rand` 0.9 alone has no normal distribution.
pub(crate) fn standard_normal(rng: &mut ChaCha8Rng) -> f64 {
    let u1: f64 = 1.0 - rng.random::<f64>(); // (0, 1]: ln is finite
    let u2: f64 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}
