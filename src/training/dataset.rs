//! Training samples for the Cα-probability 3D CNN: a box of simulated density
//! and the voxels that hold a Cα.
//!
//! The paper trains its first network on maps simulated with eq. 2 (R drawn
//! from a range) and fine-tunes a second on experimental maps. Here both come
//! from eq. 2 ([`crate::map::simulate`]) on chains of the train split:
//! [`Degradation::Clean`] gives the first kind (random rotation, B-factor blur,
//! solvent background, white noise), [`Degradation::Realistic`] stands in for
//! experimental maps with coloured noise matched to real maps' solvent spectra,
//! local resolution variation and damped density on flexible (coil) segments.
//!
//! Everything is drawn from the caller's RNG, so a seed fixes a sample.
//! Test-split chains are refused for training by [`chains_for_split`].

use std::path::{Path, PathBuf};

use nalgebra::{Quaternion, UnitQuaternion};
use rand::Rng;

use super::noise;
use crate::geom::tmalign::sec;
use crate::gpu::Backend;
use crate::map::simulate::{sigma_for_resolution, simulate_points_like, SimulateError};
use crate::map::{fft, DensityMap};
use crate::structure::Structure;
use crate::Vec3;

/// Why samples or chain lists could not be made.
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    #[error("{0}")]
    File(#[from] crate::io::FileError),
    #[error("{path}: line {line}: {message}")]
    Table {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("split {0:?} is a test split: test chains are never used for training or tuning")]
    TestSplitForTraining(String),
    #[error("unknown split {0:?} (expected train, validation, test-hard or test-easy)")]
    UnknownSplit(String),
    #[error("bad sample spec: {0}")]
    BadSpec(String),
    #[error("the chain has no Cα atoms")]
    NoCa,
    #[error("{0}")]
    Simulate(#[from] SimulateError),
}

/// Which kind of map the sample imitates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Degradation {
    /// Eq. 2, blur, background and white noise (the paper's first network).
    Clean,
    /// Also coloured noise, local resolution variation and missing loops.
    Realistic,
}

/// How samples are drawn. Ranges are (low, high), drawn uniformly.
#[derive(Debug, Clone, PartialEq)]
pub struct SampleSpec {
    /// Resolution R of eq. 2, Å.
    pub resolution_range: (f64, f64),
    /// Cubic voxel edge, Å.
    pub voxel_size: f64,
    /// Edge of the cropped box, voxels.
    pub box_size: usize,
    /// Extra Gaussian blur (B-factor), σ in Å added in quadrature to eq. 2's σ.
    pub blur_range: (f64, f64),
    /// Signal-to-noise ratio: std of the density inside the protein mask over
    /// the noise std.
    pub snr_range: (f64, f64),
    /// Solvent background level and the std of its smooth field, both as
    /// fractions of the protein density's std.
    pub background_range: (f64, f64),
    pub degradation: Degradation,
    /// Label every voxel within this radius (Å) of a Cα; 0 labels only the
    /// nearest voxel.
    pub label_radius: f64,
    /// Realistic mode: probability that a coil segment is damped, and the
    /// range of the density factor it keeps.
    pub loop_damp_probability: f64,
    pub loop_damp_range: (f64, f64),
    /// Realistic mode: the second resolution of the local blend is R times a
    /// factor drawn from this range.
    pub local_resolution_factor: (f64, f64),
}

impl Default for SampleSpec {
    fn default() -> Self {
        SampleSpec {
            resolution_range: (2.0, 10.0),
            voxel_size: 1.0,
            box_size: 48,
            blur_range: (0.0, 1.0),
            snr_range: (2.0, 10.0),
            background_range: (0.0, 0.1),
            degradation: Degradation::Clean,
            label_radius: 0.0,
            loop_damp_probability: 0.3,
            loop_damp_range: (0.0, 0.4),
            local_resolution_factor: (1.2, 1.8),
        }
    }
}

/// One training example.
#[derive(Debug, Clone)]
pub struct Sample {
    /// box_size³ map, normalised to zero mean and unit std.
    pub input: DensityMap,
    /// One per voxel of `input` (x fastest): 1 where a Cα is, 0 elsewhere.
    pub labels: Vec<u8>,
    /// The rotated Cα positions (Å, in the frame of `input`) inside the box.
    pub ca: Vec<Vec3>,
    /// R drawn for eq. 2, Å.
    pub resolution: f64,
    /// The resolution that eq. 2 alone would need for the same blur
    /// (R with the B-factor σ folded in), Å.
    pub effective_resolution: f64,
}

/// Chain ids and PDB paths of one split of `data_dir/structures.tsv`. With
/// `for_training` the test splits (test-hard, test-easy) are an error: the data
/// README's rule is that test chains are never trained or tuned on.
pub fn chains_for_split(
    data_dir: &Path,
    split: &str,
    for_training: bool,
) -> Result<Vec<(String, PathBuf)>, DatasetError> {
    match split {
        "train" | "validation" => {}
        "test-hard" | "test-easy" if for_training => {
            return Err(DatasetError::TestSplitForTraining(split.into()))
        }
        "test-hard" | "test-easy" => {}
        _ => return Err(DatasetError::UnknownSplit(split.into())),
    }
    let path = data_dir.join("structures.tsv");
    let text = crate::io::read_text(&path)?;
    let mut lines = text.lines().enumerate();
    let header: Vec<&str> = lines
        .next()
        .map(|(_, l)| l.split('\t').collect())
        .unwrap_or_default();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .ok_or_else(|| DatasetError::Table {
                path: path.clone(),
                line: 1,
                message: format!("no {name:?} column"),
            })
    };
    let (id_col, split_col) = (col("id")?, col("split")?);
    let mut out = Vec::new();
    for (i, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split('\t').collect();
        let (Some(id), Some(s)) = (f.get(id_col), f.get(split_col)) else {
            return Err(DatasetError::Table {
                path: path.clone(),
                line: i + 1,
                message: "too few columns".into(),
            });
        };
        if *s == split {
            out.push((
                id.to_string(),
                data_dir.join("structures").join(format!("{id}.pdb")),
            ));
        }
    }
    Ok(out)
}

/// A rotation drawn uniformly from SO(3) (a normalised 4D Gaussian quaternion).
pub fn random_rotation(rng: &mut impl Rng) -> UnitQuaternion<f64> {
    let q = Quaternion::new(
        noise::normal(rng),
        noise::normal(rng),
        noise::normal(rng),
        noise::normal(rng),
    );
    UnitQuaternion::from_quaternion(q)
}

fn draw(rng: &mut impl Rng, (lo, hi): (f64, f64)) -> f64 {
    if hi > lo {
        rng.random_range(lo..hi)
    } else {
        lo
    }
}

fn check_spec(spec: &SampleSpec) -> Result<(), DatasetError> {
    let pos_range =
        |(lo, hi): (f64, f64)| lo.is_finite() && hi.is_finite() && lo >= 0.0 && hi >= lo;
    let bad = |m: &str| Err(DatasetError::BadSpec(m.into()));
    if !(pos_range(spec.resolution_range) && spec.resolution_range.0 > 0.0) {
        return bad("resolution range must be positive and ordered");
    }
    if !(spec.voxel_size.is_finite() && spec.voxel_size > 0.0) {
        return bad("voxel size must be positive");
    }
    if spec.box_size < 8 {
        return bad("box size must be at least 8 voxels");
    }
    if !(pos_range(spec.snr_range) && spec.snr_range.0 > 0.0) {
        return bad("SNR range must be positive and ordered");
    }
    for (r, name) in [
        (spec.blur_range, "blur"),
        (spec.background_range, "background"),
        (spec.loop_damp_range, "loop damp"),
        (spec.local_resolution_factor, "local resolution factor"),
    ] {
        if !pos_range(r) {
            return bad(&format!("{name} range must be non-negative and ordered"));
        }
    }
    if !(spec.label_radius.is_finite() && spec.label_radius >= 0.0) {
        return bad("label radius must be non-negative");
    }
    Ok(())
}

/// Per-atom amplitudes: the atomic number, times a damping factor on the
/// atoms of coil segments chosen to lose their density (realistic mode).
fn amplitudes(chain: &Structure, spec: &SampleSpec, rng: &mut impl Rng) -> Vec<f64> {
    let mut amp = Vec::new();
    for c in &chain.chains {
        let ca = c.ca_coords();
        let ss = sec::assign(&ca);
        // Residue index → secondary structure of its Cα (residues without Cα are coil).
        let mut ss_of = Vec::with_capacity(c.residues.len());
        let mut n = 0;
        for r in &c.residues {
            if r.ca().is_some() {
                ss_of.push(ss[n]);
                n += 1;
            } else {
                ss_of.push(sec::COIL);
            }
        }
        let mut factor = vec![1.0; c.residues.len()];
        if spec.degradation == Degradation::Realistic {
            let flexible = |s: u8| s == sec::COIL || s == sec::TURN;
            let mut i = 0;
            while i < ss_of.len() {
                if !flexible(ss_of[i]) {
                    i += 1;
                    continue;
                }
                let start = i;
                while i < ss_of.len() && flexible(ss_of[i]) {
                    i += 1;
                }
                // Only runs of 3+ residues look like loops rather than caps.
                if i - start >= 3 && rng.random::<f64>() < spec.loop_damp_probability {
                    let f = draw(rng, spec.loop_damp_range);
                    factor[start..i].iter_mut().for_each(|x| *x = f);
                }
            }
        }
        for (r, f) in c.residues.iter().zip(factor) {
            for a in &r.atoms {
                amp.push(a.atomic_number() as f64 * f);
            }
        }
    }
    amp
}

/// One training sample from a chain (see the module doc for the steps).
pub fn make_sample(
    chain: &Structure,
    spec: &SampleSpec,
    rng: &mut impl Rng,
) -> Result<Sample, DatasetError> {
    check_spec(spec)?;
    let ca0 = chain.ca_coords();
    if ca0.is_empty() {
        return Err(DatasetError::NoCa);
    }
    // Rotation about the centroid: labels and atoms move together.
    let atoms: Vec<Vec3> = chain.atoms().map(|a| a.pos).collect();
    let centroid = atoms.iter().sum::<Vec3>() / atoms.len() as f64;
    let rot = random_rotation(rng);
    let turn = |p: &Vec3| centroid + rot * (p - centroid);
    let atoms: Vec<Vec3> = atoms.iter().map(turn).collect();
    let ca_all: Vec<Vec3> = ca0.iter().map(turn).collect();
    let amp = amplitudes(chain, spec, rng);
    let points: Vec<(Vec3, f64)> = atoms.iter().copied().zip(amp).collect();

    // Box: centred near a random Cα, jittered by up to a quarter box, so it
    // always contains protein but not always the same part of it.
    let v = spec.voxel_size;
    let b = spec.box_size;
    let edge = (b - 1) as f64 * v;
    let anchor = ca_all[rng.random_range(0..ca_all.len())];
    let jitter = Vec3::from_fn(|_, _| draw(rng, (-edge / 4.0, edge / 4.0)));
    let origin = anchor + jitter - Vec3::repeat(edge / 2.0);
    let template = DensityMap::zeros([b; 3], [v; 3], origin)
        .map_err(|e| DatasetError::BadSpec(e.to_string()))?;

    // Eq. 2 at R with the B-factor blur folded into σ (Gaussians compose in quadrature).
    let resolution = draw(rng, spec.resolution_range);
    let blur = draw(rng, spec.blur_range);
    let sigma = (sigma_for_resolution(resolution).powi(2) + blur * blur).sqrt();
    let r_eff = sigma * std::f64::consts::SQRT_2 * std::f64::consts::PI;
    let mut map = simulate_points_like(&points, r_eff, &template, Backend::Cpu)?;

    if spec.degradation == Degradation::Realistic {
        // Local resolution: blend with a blurrier copy by a smooth field in [0, 1].
        let r2 = r_eff * draw(rng, spec.local_resolution_factor);
        let other = simulate_points_like(&points, r2, &template, Backend::Cpu)?;
        let field = noise::smooth_field([b; 3], v, origin, 8.0, rng);
        for ((x, &y), &t) in map
            .data_mut()
            .iter_mut()
            .zip(other.data())
            .zip(field.data())
        {
            let w = 1.0 / (1.0 + (-2.0 * t as f64).exp());
            *x = ((1.0 - w) * *x as f64 + w * y as f64) as f32;
        }
    }

    // Protein mask (soft) and the scale everything else is relative to.
    let hard = map.mask_near(&atoms, 3.0);
    let protein_sd = map
        .stats_masked(&hard)
        .map(|s| s.std)
        .unwrap_or_else(|_| map.stats().std)
        .max(1e-12);
    let mut soft = map.clone();
    for (s, &m) in soft.data_mut().iter_mut().zip(&hard) {
        *s = if m { 1.0 } else { 0.0 };
    }
    let soft = fft::gaussian_blur(&soft, 1.5);

    // Solvent background: a low level plus a smooth field, outside the protein.
    let level = draw(rng, spec.background_range) * protein_sd;
    let wobble = draw(rng, spec.background_range) * protein_sd;
    let field = noise::smooth_field([b; 3], v, origin, draw(rng, (4.0, 10.0)), rng);
    // Noise: white, or coloured like real maps' solvent.
    let noise_sd = protein_sd / draw(rng, spec.snr_range);
    let noise = match spec.degradation {
        Degradation::Clean => noise::white_noise([b; 3], v, origin, rng),
        Degradation::Realistic => noise::coloured_noise([b; 3], v, origin, rng),
    };
    for (((x, &m), &f), &n) in map
        .data_mut()
        .iter_mut()
        .zip(soft.data())
        .zip(field.data())
        .zip(noise.data())
    {
        let outside = 1.0 - (m as f64).clamp(0.0, 1.0);
        *x = (*x as f64 + outside * (level + wobble * f as f64) + noise_sd * n as f64) as f32;
    }
    map.normalise();

    let (labels, ca) = label_voxels(&map, &ca_all, spec.label_radius);
    Ok(Sample {
        input: map,
        labels,
        ca,
        resolution,
        effective_resolution: r_eff,
    })
}

/// Labels: the voxel nearest each Cα inside the box (and, with a radius, every
/// voxel within it); returns them with the Cα positions that fell inside.
pub fn label_voxels(map: &DensityMap, ca: &[Vec3], radius: f64) -> (Vec<u8>, Vec<Vec3>) {
    let dims = map.dims();
    let vs = map.voxel_size();
    let o = map.origin();
    let mut labels = vec![0u8; map.len()];
    let mut inside = Vec::new();
    for p in ca {
        let g = [0, 1, 2].map(|a| ((p[a] - o[a]) / vs[a]).round());
        if (0..3).all(|a| g[a] >= 0.0 && g[a] < dims[a] as f64) {
            let idx = g[0] as usize + dims[0] * (g[1] as usize + dims[1] * g[2] as usize);
            labels[idx] = 1;
            inside.push(*p);
        }
    }
    if radius > 0.0 {
        for (l, m) in labels.iter_mut().zip(map.mask_near(&inside, radius)) {
            if m {
                *l = 1;
            }
        }
    }
    (labels, inside)
}
