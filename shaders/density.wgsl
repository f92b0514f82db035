// Simulated density of a model on a grid, CR-I-TASSER eq. 2:
//   rho(y) = sum_i A_i / sqrt(2 pi sigma^2) * exp(-|y - x_i|^2 / (2 sigma^2)),
// truncated at |y - x_i| < cutoff. One invocation per voxel gathers the atoms of
// the 3x3x3 cells around it (cells are at least `cutoff` wide, atoms sorted by
// cell on the host), so no float atomics are needed and the cost is
// proportional to the atom-voxel pairs near each other, not atoms x voxels.
// Positions are relative to the map origin, in angstrom.

struct Params {
    // nx, ny, nz of this dispatch's z-chunk, z0 = first z plane of the chunk
    dims: vec4<u32>,
    // number of cells along x, y, z; unused
    cells: vec4<u32>,
    // voxel size along x, y, z; unused
    voxel: vec4<f32>,
    // cell grid origin x, y, z (relative to the map origin); cell width
    cell_origin: vec4<f32>,
    // 1 / (2 sigma^2), cutoff^2, unused, unused
    gauss: vec4<f32>,
}

@group(0) @binding(0) var<uniform> params: Params;
// xyz = position, w = amplitude A_i / sqrt(2 pi sigma^2)
@group(0) @binding(1) var<storage, read> atoms: array<vec4<f32>>;
// atoms of cell c are atoms[cell_start[c] .. cell_start[c + 1]]
@group(0) @binding(2) var<storage, read> cell_start: array<u32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(4, 4, 4)
fn simulate(@builtin(global_invocation_id) gid: vec3<u32>) {
    let nx = params.dims.x;
    let ny = params.dims.y;
    let nz = params.dims.z;
    if (gid.x >= nx || gid.y >= ny || gid.z >= nz) {
        return;
    }
    let k = gid.z + params.dims.w;
    let p = vec3<f32>(f32(gid.x), f32(gid.y), f32(k)) * params.voxel.xyz;
    let width = params.cell_origin.w;
    let ncell = vec3<i32>(params.cells.xyz);
    let c = clamp(
        vec3<i32>(floor((p - params.cell_origin.xyz) / width)),
        vec3<i32>(0),
        ncell - vec3<i32>(1)
    );
    let lo = max(c - vec3<i32>(1), vec3<i32>(0));
    let hi = min(c + vec3<i32>(1), ncell - vec3<i32>(1));
    let inv2s2 = params.gauss.x;
    let cut2 = params.gauss.y;
    var sum = 0.0;
    for (var cz = lo.z; cz <= hi.z; cz++) {
        for (var cy = lo.y; cy <= hi.y; cy++) {
            let row = u32(cy + ncell.y * cz) * u32(ncell.x);
            // Cells lo.x..hi.x of one row are contiguous in the sorted atom list.
            let start = cell_start[row + u32(lo.x)];
            let end = cell_start[row + u32(hi.x) + 1u];
            for (var a = start; a < end; a++) {
                let atom = atoms[a];
                let d = p - atom.xyz;
                let d2 = dot(d, d);
                if (d2 < cut2) {
                    sum += atom.w * exp(-d2 * inv2s2);
                }
            }
        }
    }
    out[gid.x + nx * (gid.y + ny * gid.z)] = sum;
}
