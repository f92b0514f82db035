// Sums for map-model correlation (PCC over the grid, PCC in a mask, and the
// eq. 6 cross term), as per-workgroup partial sums in f32 that the host adds
// up in f64. Two passes keep the PCC free of cancellation:
//   pass 0: sum x, sum y, and the same over masked voxels;
//   pass 1: with shifts a, b (the pass-0 means) accumulate
//           dx = x - a, dy = y - b, dx*dy, dx^2, dy^2 over all voxels and,
//           with the masked means, over the masked voxels.
// The mask is one bit per voxel, 32 voxels per u32 word.

const WG: u32 = 256u;
const SLOTS: u32 = 10u;

struct Params {
    // n voxels, pass (0 or 1), number of workgroups dispatched, unused
    n: vec4<u32>,
    // shift of x and y over all voxels, then over the masked voxels
    shift: vec4<f32>,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> xs: array<f32>;
@group(0) @binding(2) var<storage, read> ys: array<f32>;
@group(0) @binding(3) var<storage, read> mask: array<u32>;
// SLOTS values per workgroup
@group(0) @binding(4) var<storage, read_write> partial: array<f32>;

var<workgroup> acc: array<f32, 2560>; // WG * SLOTS

@compute @workgroup_size(256)
fn sums(
    @builtin(local_invocation_index) lid: u32,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    let n = params.n.x;
    let step = params.n.y;
    let stride = params.n.z * WG;
    var s: array<f32, 10>;
    for (var t = 0u; t < SLOTS; t++) {
        s[t] = 0.0;
    }
    for (var i = wid.x * WG + lid; i < n; i += stride) {
        let x = xs[i];
        let y = ys[i];
        let inside = ((mask[i >> 5u] >> (i & 31u)) & 1u) == 1u;
        if (step == 0u) {
            s[0] += x;
            s[1] += y;
            if (inside) {
                s[2] += x;
                s[3] += y;
            }
        } else {
            let dx = x - params.shift.x;
            let dy = y - params.shift.y;
            s[0] += dx;
            s[1] += dy;
            s[2] += dx * dy;
            s[3] += dx * dx;
            s[4] += dy * dy;
            if (inside) {
                let mx = x - params.shift.z;
                let my = y - params.shift.w;
                s[5] += mx;
                s[6] += my;
                s[7] += mx * my;
                s[8] += mx * mx;
                s[9] += my * my;
            }
        }
    }
    for (var t = 0u; t < SLOTS; t++) {
        acc[t * WG + lid] = s[t];
    }
    workgroupBarrier();
    for (var h = WG / 2u; h > 0u; h = h / 2u) {
        if (lid < h) {
            for (var t = 0u; t < SLOTS; t++) {
                acc[t * WG + lid] += acc[t * WG + lid + h];
            }
        }
        workgroupBarrier();
    }
    if (lid < SLOTS) {
        partial[wid.x * SLOTS + lid] = acc[lid * WG];
    }
}
