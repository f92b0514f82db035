//! Adam (Kingma & Ba 2015) with the paper's learning rate 5e-4 and the usual
//! β1 = 0.9, β2 = 0.999, ε = 1e-8; bias-corrected moments.

use super::params::{tensors_mut, zeros_like};
use crate::cnn::CaNetwork;

#[derive(Debug, Clone)]
pub struct Adam {
    pub lr: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    /// Steps taken so far.
    pub t: u64,
    /// First and second moments, shaped like the network.
    pub m: CaNetwork,
    pub v: CaNetwork,
}

impl Adam {
    pub fn new(net: &CaNetwork, lr: f64) -> Self {
        Adam {
            lr,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            t: 0,
            m: zeros_like(net),
            v: zeros_like(net),
        }
    }

    /// One update of `net` with gradient `grad` (shaped like `net`).
    pub fn step(&mut self, net: &mut CaNetwork, grad: &mut CaNetwork) {
        self.t += 1;
        let (b1, b2) = (self.beta1, self.beta2);
        let c1 = 1.0 - b1.powi(self.t as i32);
        let c2 = 1.0 - b2.powi(self.t as i32);
        let lr = self.lr;
        let eps = self.eps;
        let p = tensors_mut(net);
        let g = tensors_mut(grad);
        let m = tensors_mut(&mut self.m);
        let v = tensors_mut(&mut self.v);
        for (((p, g), m), v) in p.into_iter().zip(g).zip(m).zip(v) {
            for (((p, &g), m), v) in p
                .iter_mut()
                .zip(g.iter())
                .zip(m.iter_mut())
                .zip(v.iter_mut())
            {
                let g = g as f64;
                let mn = b1 * *m as f64 + (1.0 - b1) * g;
                let vn = b2 * *v as f64 + (1.0 - b2) * g * g;
                *m = mn as f32;
                *v = vn as f32;
                *p -= (lr * (mn / c1) / ((vn / c2).sqrt() + eps)) as f32;
            }
        }
    }
}
