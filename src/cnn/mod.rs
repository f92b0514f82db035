//! The Cα-detection 3D-CNN (paper, Methods, "Predicting Cα locations using deep
//! neural-network learning"): a residual network that turns a density map into
//! P(Cα) at every voxel.
//!
//! Architecture (Supplementary Fig. 10a): 3×3×3 conv 1→C (C = 32), instance
//! norm, ReLU; B = 10 residual basic blocks (3×3×3 conv, IN, ReLU, 3×3×3 conv,
//! IN, + block input, ReLU); a final conv C→2 and a softmax over the two classes
//! (class 1 = "a Cα here"). The paper does not give the final kernel size; the
//! default is 1×1×1 (a per-voxel classifier on the features, as in most
//! segmentation nets), and 3×3×3 heads load too. Zero 'same' padding
//! everywhere, so the output has the input's grid. Dropout (rate 0.2 in the
//! paper) is a training-time layer and absent here.
//!
//! - [`network`]: parameters, metadata, seeded Kaiming initialisation.
//! - [`weights`]: the safetensors file (tensor names and metadata keys there).
//! - [`conv`]: the blocked CPU convolution, slab by slab.
//! - [`norm`]: instance norm (+ ReLU, + residual add).
//! - [`infer`]: the forward pass over a whole map, bounded memory.
//! - [`spill`]: the same pass with the activations in temporary files, for maps
//!   over the memory budget.

pub mod bundled;
pub mod conv;
pub mod gpu;
pub mod infer;
pub mod network;
pub mod norm;
pub mod shaders;
pub mod spill;
pub mod weights;

pub use infer::{predict_ca_probability, predict_class_probabilities, CnnError, InferenceOptions};
pub use network::{BasicBlock, CaNetwork, Conv3d, InstanceNorm, NetworkMeta, ARCHITECTURE};
pub use weights::{load_weights, save_weights, weights_from_bytes, weights_to_bytes};
