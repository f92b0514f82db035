// 3D convolution of the Cα network (stride 1, zero 'same' padding), one z-slab
// per dispatch:
//   out[co][z][y][x] = b[co] + Σ w[co][ci][dz][dy][dx] · in[ci][z+dz−h][y+dy−h][x+dx−h]
// Activations are whole-map buffers [c][nz][ny][nx] (x fastest). Each
// invocation computes one voxel for a block of 4 output channels (vec4
// accumulator), so every input value it loads feeds 4 multiply-adds. Weights are
// packed on the host as [blk][ci][kz][ky][kx] vec4 (channel co = 4·blk + lane,
// zero for padding lanes), bias as [blk] vec4.
// Dispatch: (ceil(nx/8), ceil(ny/8), sz·nblk) workgroups.

struct Params {
    nx: u32,
    ny: u32,
    nz: u32,
    cin: u32,
    cout: u32,
    k: u32,
    z0: u32,
    sz: u32,
    nblk: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> input: array<f32>;
@group(0) @binding(2) var<storage, read> weight: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> bias: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> output: array<f32>;

@compute @workgroup_size(8, 8, 1)
fn conv3d(@builtin(global_invocation_id) gid: vec3<u32>) {
    let x = gid.x;
    let y = gid.y;
    let zl = gid.z % p.sz;
    let blk = gid.z / p.sz;
    if (x >= p.nx || y >= p.ny || blk >= p.nblk) {
        return;
    }
    let z = p.z0 + zl;
    if (z >= p.nz) {
        return;
    }
    let n = p.nx * p.ny * p.nz;
    let h = i32(p.k / 2u);
    let k = p.k;
    let k3 = k * k * k;
    var acc = bias[blk];
    for (var ci = 0u; ci < p.cin; ci++) {
        let wbase = (blk * p.cin + ci) * k3;
        let ibase = ci * n;
        for (var dz = 0u; dz < k; dz++) {
            let zz = i32(z) + i32(dz) - h;
            if (zz < 0 || zz >= i32(p.nz)) {
                continue;
            }
            for (var dy = 0u; dy < k; dy++) {
                let yy = i32(y) + i32(dy) - h;
                if (yy < 0 || yy >= i32(p.ny)) {
                    continue;
                }
                let row = ibase + (u32(zz) * p.ny + u32(yy)) * p.nx;
                let wrow = wbase + (dz * k + dy) * k;
                for (var dx = 0u; dx < k; dx++) {
                    let xx = i32(x) + i32(dx) - h;
                    if (xx < 0 || xx >= i32(p.nx)) {
                        continue;
                    }
                    acc += weight[wrow + dx] * input[row + u32(xx)];
                }
            }
        }
    }
    let vox = (z * p.ny + y) * p.nx + x;
    for (var lane = 0u; lane < 4u; lane++) {
        let co = blk * 4u + lane;
        if (co < p.cout) {
            output[co * n + vox] = acc[lane];
        }
    }
}
