//! `mapfold map-info MAP [--json]`: the header fields mapfold uses and the
//! statistics of the data, as a table or one JSON object.

use std::path::PathBuf;

use serde_json::json;

use crate::io::mrc;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The MRC/CCP4 map (.mrc, .map, .ccp4, optionally .gz).
    pub map: PathBuf,
    /// Print one JSON object on stdout.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: &Args, _global: &super::Global) -> anyhow::Result<()> {
    let (h, map) = mrc::read_map_with_header(&args.map)?;
    let s = map.stats();
    let o = map.origin();
    if args.json {
        super::print_json(&json!({
            "file_dims": h.file_dims,
            "mode": h.mode,
            "axis_order": h.axis_order,
            "voxel_size": h.voxel_size,
            "origin": [o.x, o.y, o.z],
            "min": s.min,
            "max": s.max,
            "mean": s.mean,
            "std": s.std,
        }));
        return Ok(());
    }
    let origin_from = if h.origin_field.iter().any(|&v| v != 0.0) {
        "ORIGIN"
    } else {
        "NSTART × voxel"
    };
    let d = map.dims();
    println!("map         {}", args.map.display());
    println!(
        "file dims   {} × {} × {} (columns, rows, sections)",
        h.file_dims[0], h.file_dims[1], h.file_dims[2]
    );
    println!("grid x,y,z  {} × {} × {}", d[0], d[1], d[2]);
    println!("mode        {} ({})", h.mode, mode_name(h.mode));
    println!(
        "axis order  {}, {}, {} (MAPC, MAPR, MAPS)",
        h.axis_order[0], h.axis_order[1], h.axis_order[2]
    );
    println!(
        "voxel       {:.4} × {:.4} × {:.4} Å",
        h.voxel_size[0], h.voxel_size[1], h.voxel_size[2]
    );
    println!(
        "origin      {:.3}, {:.3}, {:.3} Å (from {origin_from})",
        o.x, o.y, o.z
    );
    println!(
        "byte order  {}",
        if h.big_endian {
            "big-endian"
        } else {
            "little-endian"
        }
    );
    println!("min         {:.6}", s.min);
    println!("max         {:.6}", s.max);
    println!("mean        {:.6}", s.mean);
    println!("std         {:.6}", s.std);
    Ok(())
}

fn mode_name(mode: i32) -> &'static str {
    match mode {
        0 => "int8",
        1 => "int16",
        2 => "float32",
        6 => "uint16",
        12 => "float16",
        _ => "unknown",
    }
}
