// Map energy of beads, CR-I-TASSER eq. 6-7 evaluated per bead:
//   f(x) = sum_y rho_eff(y) exp(-|y - x|^2 / (2 sigma^2)) / K,
// over the voxels y within the cutoff of x, where rho_eff is the weighted sum
// of the normalised experimental map and the CNN-cloud map, and K the
// Gaussian's sum over a full grid. One workgroup per bead: the 64 invocations
// stride over the voxel box and reduce in workgroup memory. The assembly's
// Monte Carlo sends the old and new positions of every moved bead of every
// replica's proposal in one dispatch; the host sums per proposal.

struct Params {
    // nx, ny, nz, number of beads
    dims: vec4<u32>,
    // voxel size x, y, z; 1 / (2 sigma^2)
    voxel: vec4<f32>,
    // cutoff (A), 1 / K, beads per row of the dispatch grid, unused
    gauss: vec4<f32>,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> map: array<f32>;
// xyz = position relative to the map origin (A), w unused
@group(0) @binding(2) var<storage, read> beads: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

var<workgroup> partial: array<f32, 64>;

@compute @workgroup_size(64)
fn bead_values(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let b = wid.x + wid.y * u32(params.gauss.z);
    let nbeads = params.dims.w;
    var sum = 0.0;
    if (b < nbeads) {
        let p = beads[b].xyz;
        let v = params.voxel.xyz;
        let cut = params.gauss.x;
        let n = vec3<i32>(params.dims.xyz);
        let lo = max(vec3<i32>(ceil((p - vec3<f32>(cut)) / v)), vec3<i32>(0));
        let hi = min(vec3<i32>(floor((p + vec3<f32>(cut)) / v)), n - vec3<i32>(1));
        if (all(hi >= lo)) {
            let ext = hi - lo + vec3<i32>(1);
            let total = u32(ext.x * ext.y * ext.z);
            let inv2s2 = params.voxel.w;
            let cut2 = cut * cut;
            for (var t = lid; t < total; t = t + 64u) {
                let ix = i32(t % u32(ext.x)) + lo.x;
                let iy = i32((t / u32(ext.x)) % u32(ext.y)) + lo.y;
                let iz = i32(t / u32(ext.x * ext.y)) + lo.z;
                let d = vec3<f32>(f32(ix), f32(iy), f32(iz)) * v - p;
                let r2 = dot(d, d);
                if (r2 < cut2) {
                    let idx = u32(ix) + u32(n.x) * (u32(iy) + u32(n.y) * u32(iz));
                    sum = sum + map[idx] * exp(-r2 * inv2s2);
                }
            }
        }
    }
    partial[lid] = sum;
    workgroupBarrier();
    for (var s = 32u; s > 0u; s = s >> 1u) {
        if (lid < s) {
            partial[lid] = partial[lid] + partial[lid + s];
        }
        workgroupBarrier();
    }
    if (lid == 0u && b < nbeads) {
        out[b] = partial[0] * params.gauss.y;
    }
}
