//! Weighted cross-entropy over the two classes (paper, Methods: weights 1:50
//! for "no Cα" : "Cα", because Cα voxels are ~1 % of a box).
//!
//! L = Σ_v w_v·(−log p_{y_v}) / Σ_v w_v (PyTorch's weighted mean), p the
//! softmax of the two logits; dL/dlogit_c = w_v·(p_c − [y_v = c]) / Σ w.

/// Loss and its gradient with respect to the `[2][n]` logits.
pub fn weighted_cross_entropy(logits: &[f32], labels: &[u8], pos_weight: f64) -> (f64, Vec<f32>) {
    let n = labels.len();
    assert_eq!(logits.len(), 2 * n, "logits are [2][n]");
    let (l0, l1) = logits.split_at(n);
    let wsum: f64 = labels
        .iter()
        .map(|&y| if y != 0 { pos_weight } else { 1.0 })
        .sum();
    let mut grad = vec![0f32; 2 * n];
    let (g0, g1) = grad.split_at_mut(n);
    let mut loss = 0f64;
    for i in 0..n {
        let (a, b) = (l0[i] as f64, l1[i] as f64);
        let m = a.max(b);
        let lse = m + ((a - m).exp() + (b - m).exp()).ln();
        let (p0, p1) = ((a - lse).exp(), (b - lse).exp());
        let pos = labels[i] != 0;
        let w = if pos { pos_weight } else { 1.0 };
        loss += w * (lse - if pos { b } else { a });
        let s = w / wsum;
        g0[i] = (s * (p0 - if pos { 0.0 } else { 1.0 })) as f32;
        g1[i] = (s * (p1 - if pos { 1.0 } else { 0.0 })) as f32;
    }
    (loss / wsum, grad)
}
