//! Tests of the backward pass against finite differences of an independent,
//! plain f64 implementation of the same network, and of training behaviour.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::backward::{backward, forward_train};
use super::loss::weighted_cross_entropy;
use super::params::tensors;
use crate::cnn::{CaNetwork, NetworkMeta};

/// Naive f64 conv, zero 'same' padding: `x` is [cin][n], weights [cout][cin][k³].
fn conv_ref(
    x: &[f64],
    cin: usize,
    cout: usize,
    k: usize,
    w: &[f64],
    b: &[f64],
    d: [usize; 3],
) -> Vec<f64> {
    let [nx, ny, nz] = d;
    let n = nx * ny * nz;
    let h = (k / 2) as isize;
    let mut out = vec![0.0; cout * n];
    for co in 0..cout {
        for z in 0..nz {
            for y in 0..ny {
                for xx in 0..nx {
                    let mut s = b[co];
                    for ci in 0..cin {
                        for kz in 0..k {
                            for ky in 0..k {
                                for kx in 0..k {
                                    let (iz, iy, ix) = (
                                        z as isize + kz as isize - h,
                                        y as isize + ky as isize - h,
                                        xx as isize + kx as isize - h,
                                    );
                                    if iz < 0
                                        || iy < 0
                                        || ix < 0
                                        || iz >= nz as isize
                                        || iy >= ny as isize
                                        || ix >= nx as isize
                                    {
                                        continue;
                                    }
                                    let v = x[ci * n
                                        + (iz as usize * ny + iy as usize) * nx
                                        + ix as usize];
                                    s += w[((co * cin + ci) * k * k + kz * k + ky) * k + kx] * v;
                                }
                            }
                        }
                    }
                    out[co * n + (z * ny + y) * nx + xx] = s;
                }
            }
        }
    }
    out
}

fn in_ref(x: &mut [f64], g: &[f64], b: &[f64], n: usize) {
    for (c, ch) in x.chunks_mut(n).enumerate() {
        let m = ch.iter().sum::<f64>() / n as f64;
        let v = ch.iter().map(|v| (v - m).powi(2)).sum::<f64>() / n as f64;
        let inv = 1.0 / (v + crate::cnn::norm::EPS).sqrt();
        ch.iter_mut()
            .for_each(|v| *v = g[c] * (*v - m) * inv + b[c]);
    }
}

/// The loss of the network whose tensors (in [`tensors`] order) are `p`.
#[allow(clippy::too_many_arguments)]
fn loss_ref(
    p: &[Vec<f64>],
    c: usize,
    blocks: usize,
    hk: usize,
    input: &[f64],
    labels: &[u8],
    drop: &[Vec<f32>],
    d: [usize; 3],
) -> f64 {
    let n = input.len();
    let relu = |v: &mut Vec<f64>| v.iter_mut().for_each(|x| *x = x.max(0.0));
    let mut x = conv_ref(input, 1, c, 3, &p[0], &p[1], d);
    in_ref(&mut x, &p[2], &p[3], n);
    relu(&mut x);
    for b in 0..blocks {
        let q = &p[4 + 8 * b..];
        let mut h = conv_ref(&x, c, c, 3, &q[0], &q[1], d);
        in_ref(&mut h, &q[2], &q[3], n);
        relu(&mut h);
        for (ch, &s) in h.chunks_mut(n).zip(&drop[b]) {
            ch.iter_mut().for_each(|v| *v *= s as f64);
        }
        let mut o = conv_ref(&h, c, c, 3, &q[4], &q[5], d);
        in_ref(&mut o, &q[6], &q[7], n);
        o.iter_mut().zip(&x).for_each(|(o, s)| *o += s);
        relu(&mut o);
        x = o;
    }
    let k = 4 + 8 * blocks;
    let lg = conv_ref(&x, c, 2, hk, &p[k], &p[k + 1], d);
    let (mut num, mut den) = (0.0, 0.0);
    for i in 0..n {
        let (a, b) = (lg[i], lg[n + i]);
        let lse = a.max(b) + ((a - a.max(b)).exp() + (b - a.max(b)).exp()).ln();
        let w = if labels[i] != 0 { 50.0 } else { 1.0 };
        num += w * (lse - if labels[i] != 0 { b } else { a });
        den += w;
    }
    num / den
}

fn check(head_kernel: usize) {
    let (c, blocks, e) = (4, 1, 6);
    let d = [e; 3];
    let n = e * e * e;
    let mut net = CaNetwork::random(
        NetworkMeta {
            channels: c,
            blocks,
            head_kernel,
            ..NetworkMeta::paper(1.0)
        },
        11,
    );
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    // Non-trivial norm parameters and biases so that every term is exercised.
    for t in super::params::tensors_mut(&mut net) {
        if t.len() <= c {
            t.iter_mut().for_each(|v| *v += rng.random_range(-0.3..0.3));
        }
    }
    let input: Vec<f32> = (0..n).map(|_| rng.random_range(-1.5f32..1.5)).collect();
    let labels: Vec<u8> = (0..n).map(|i| u8::from(i % 17 == 3)).collect();
    // Channel 1 of the block dropped, the others scaled as in training.
    let drop = vec![vec![1.25, 0.0, 1.25, 1.25]];

    let tape = forward_train(&net, d, &input, &drop);
    let (loss, dl) = weighted_cross_entropy(&tape.logits, &labels, 50.0);
    let grad = backward(&net, &tape, &dl);

    let p: Vec<Vec<f64>> = tensors(&net)
        .iter()
        .map(|t| t.2.iter().map(|&v| v as f64).collect())
        .collect();
    let inp: Vec<f64> = input.iter().map(|&v| v as f64).collect();
    let l_ref = loss_ref(&p, c, blocks, head_kernel, &inp, &labels, &drop, d);
    assert!(
        (l_ref - loss).abs() < 1e-4 * l_ref.abs().max(1.0),
        "loss {loss} vs f64 reference {l_ref}"
    );

    let h = 1e-5;
    let mut worst = 0f64;
    // Conv biases in front of an instance norm have a true gradient of 0 (the
    // mean is subtracted); there only an absolute bound makes sense.
    let gall = tensors(&grad)
        .iter()
        .flat_map(|t| t.2.iter())
        .fold(0f32, |m, v| m.max(v.abs())) as f64;
    for (ti, ((name, _, _), (_, _, g))) in
        tensors(&net).iter().zip(tensors(&grad).iter()).enumerate()
    {
        let gmax = g.iter().fold(0f32, |m, v| m.max(v.abs())) as f64;
        // Up to 6 entries per tensor: the largest gradient and random others.
        let mut idx: Vec<usize> = (0..5).map(|_| rng.random_range(0..g.len())).collect();
        idx.push(
            (0..g.len())
                .max_by(|&a, &b| g[a].abs().total_cmp(&g[b].abs()))
                .unwrap(),
        );
        for i in idx {
            let mut q = p.clone();
            q[ti][i] += h;
            let lp = loss_ref(&q, c, blocks, head_kernel, &inp, &labels, &drop, d);
            q[ti][i] -= 2.0 * h;
            let lm = loss_ref(&q, c, blocks, head_kernel, &inp, &labels, &drop, d);
            let num = (lp - lm) / (2.0 * h);
            let ana = g[i] as f64;
            // Relative to the entry, floored at 1e-3 of the tensor's largest
            // gradient and 1e-5 of the network's (entries near zero are
            // dominated by f32 rounding).
            let den = num.abs().max(ana.abs()).max(1e-3 * gmax).max(1e-5 * gall);
            let rel = (num - ana).abs() / den;
            worst = worst.max(rel);
            assert!(
                rel < 1e-2,
                "{name}[{i}]: analytic {ana:e}, finite difference {num:e}, rel {rel:e}"
            );
        }
    }
    eprintln!(
        "head k={head_kernel}: worst relative error {worst:e} over {} tensors",
        p.len()
    );
}

#[test]
fn gradients_match_finite_differences_1x1_head() {
    check(1);
}

#[test]
fn gradients_match_finite_differences_3x3_head() {
    check(3);
}
