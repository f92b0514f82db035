// Element-wise layers of the Cα network, over flat buffers of `len` values
// (2D dispatch: index = x + y·(workgroups in x)·256, so maps of more than
// 65535·256 values fit). Each entry point binds 0.. in order.
//   relu:      x ← max(x, 0)
//   add_relu:  x ← max(x + skip, 0)     (end of a residual basic block)
//   softmax2:  logits [2][n] → probabilities [2][n], class 1 = "a Cα here";
//              len = n here. Shifted by the max so exp never overflows.

struct Params {
    len: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;

fn flat(gid: vec3<u32>, nwg: vec3<u32>) -> u32 {
    return gid.x + gid.y * nwg.x * 256u;
}

@group(0) @binding(1) var<storage, read_write> relu_data: array<f32>;

@compute @workgroup_size(256)
fn relu(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat(gid, nwg);
    if (i >= p.len) {
        return;
    }
    relu_data[i] = max(relu_data[i], 0.0);
}

@group(0) @binding(1) var<storage, read> ar_skip: array<f32>;
@group(0) @binding(2) var<storage, read_write> ar_data: array<f32>;

@compute @workgroup_size(256)
fn add_relu(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat(gid, nwg);
    if (i >= p.len) {
        return;
    }
    ar_data[i] = max(ar_data[i] + ar_skip[i], 0.0);
}

@group(0) @binding(1) var<storage, read> sm_logits: array<f32>;
@group(0) @binding(2) var<storage, read_write> sm_probs: array<f32>;

@compute @workgroup_size(256)
fn softmax2(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat(gid, nwg);
    if (i >= p.len) {
        return;
    }
    let a = sm_logits[i];
    let b = sm_logits[p.len + i];
    let m = max(a, b);
    let e0 = exp(a - m);
    let e1 = exp(b - m);
    sm_probs[i] = e0 / (e0 + e1);
    sm_probs[p.len + i] = e1 / (e0 + e1);
}
