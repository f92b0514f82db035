// Instance normalisation over the whole map, per channel (ε from the host,
// 1e-5): y = γ·(x − μ)/√(σ² + ε) + β, μ and σ² the mean and biased variance of
// the channel over all n voxels. Three entry points, each binding 0.. in order:
//   partial_sums: one workgroup per (chunk, channel) writes Σx, Σx² of its chunk
//                 (f32 over at most `chunk` values); dispatch (nchunks, channels).
//   finalize:     one invocation per channel adds the partials with Kahan
//                 compensation (WGSL has no f64) and writes (scale, shift).
//   apply:        x ← scale·x + shift in place over [c][n]; 2D dispatch for size.

struct Params {
    n: u32,
    channels: u32,
    chunk: u32,
    nchunks: u32,
    eps: f32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;

// partial_sums
@group(0) @binding(1) var<storage, read> ps_data: array<f32>;
@group(0) @binding(2) var<storage, read_write> ps_partials: array<vec2<f32>>;

var<workgroup> red: array<vec2<f32>, 256>;

@compute @workgroup_size(256)
fn partial_sums(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let chunk = wid.x;
    let c = wid.y;
    let start = chunk * p.chunk;
    let end = min(start + p.chunk, p.n);
    var s = vec2<f32>(0.0, 0.0);
    for (var i = start + lid; i < end; i += 256u) {
        let v = ps_data[c * p.n + i];
        s += vec2<f32>(v, v * v);
    }
    red[lid] = s;
    workgroupBarrier();
    for (var stride = 128u; stride > 0u; stride >>= 1u) {
        if (lid < stride) {
            red[lid] += red[lid + stride];
        }
        workgroupBarrier();
    }
    if (lid == 0u) {
        ps_partials[c * p.nchunks + chunk] = red[0];
    }
}

// finalize
@group(0) @binding(1) var<storage, read> fin_partials: array<vec2<f32>>;
@group(0) @binding(2) var<storage, read> fin_gamma_beta: array<vec2<f32>>;
@group(0) @binding(3) var<storage, read_write> fin_affine: array<vec2<f32>>;

@compute @workgroup_size(64)
fn finalize(@builtin(global_invocation_id) gid: vec3<u32>) {
    let c = gid.x;
    if (c >= p.channels) {
        return;
    }
    var sum = vec2<f32>(0.0, 0.0);
    var comp = vec2<f32>(0.0, 0.0);
    for (var i = 0u; i < p.nchunks; i++) {
        let y = fin_partials[c * p.nchunks + i] - comp;
        let t = sum + y;
        comp = (t - sum) - y;
        sum = t;
    }
    let nf = f32(p.n);
    let mean = sum.x / nf;
    let var_ = max(sum.y / nf - mean * mean, 0.0);
    let gb = fin_gamma_beta[c];
    let scale = gb.x / sqrt(var_ + p.eps);
    fin_affine[c] = vec2<f32>(scale, gb.y - mean * scale);
}

// apply
@group(0) @binding(1) var<storage, read> ap_affine: array<vec2<f32>>;
@group(0) @binding(2) var<storage, read_write> ap_data: array<f32>;

@compute @workgroup_size(256)
fn apply(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
) {
    let i = gid.x + gid.y * nwg.x * 256u;
    if (i >= p.n * p.channels) {
        return;
    }
    let ab = ap_affine[i / p.n];
    ap_data[i] = ab.x * ap_data[i] + ab.y;
}
