//! PDB format: reading ATOM/HETATM records of the first model, writing with
//! caller-set B-factors.
//!
//! Reading policy (as gemmi and the TM-score program do), applied by
//! [`super::builder`]: only the first MODEL is read; of alternate locations the
//! first one listed for each atom is kept; insertion codes make separate residues;
//! waters (HOH, WAT, DOD) and non-amino-acid HETATM residues go to
//! [`Structure::waters`] / [`Structure::ligands`]; modified amino acids listed as
//! HETATM (MSE, SEP, ...) stay in the chain. Lenient where real files differ: the
//! chain id may use columns 21-22, serial and residue numbers may be hybrid-36,
//! lines may be shorter than 80 columns (but must reach z, column 54), a missing
//! or odd element column is guessed from the atom name.
//!
//! Writing ([`to_pdb_string`], [`write_pdb`]): chains as ATOM (known modified
//! residues as HETATM), a TER after each chain, then ligands and waters as HETATM,
//! then END. Atom serials are renumbered from 1. Atom names of one-letter elements
//! start in column 14, as the format requires. Numbers that do not fit their
//! columns: serials and residue numbers switch to hybrid-36; chain ids longer
//! than two characters keep their last two; B-factors and occupancies are clamped
//! to what six columns can print. Use mmCIF for structures that do not fit.

use super::builder::{Builder, Record};
use super::FileError;
use crate::structure::{one_letter_code, Atom, Residue, Structure};
use crate::Vec3;
use std::fmt::Write as _;
use std::path::Path;

/// Parses PDB text. Errors carry the line number; the caller adds the file name.
pub fn parse(text: &str) -> Result<Structure, String> {
    let mut b = Builder::default();
    for (lineno, line) in text.lines().enumerate() {
        let rec = line.get(..6).unwrap_or(line);
        if rec.starts_with("ENDMDL") || (rec.starts_with("MODEL") && b.n_atoms() > 0) {
            break;
        }
        let is_atom = rec == "ATOM  " || rec == "ATOM";
        let is_het = rec == "HETATM";
        if !is_atom && !is_het {
            continue;
        }
        let err = |what: &str| format!("line {}: {what}", lineno + 1);
        if line.len() < 54 || !line.is_char_boundary(54) {
            return Err(err(
                "ATOM/HETATM record shorter than the 54 columns that hold x, y, z",
            ));
        }
        let col = |a: usize, b: usize| -> &str {
            let b = b.min(line.len());
            if a >= b || !line.is_char_boundary(a) || !line.is_char_boundary(b) {
                ""
            } else {
                &line[a..b]
            }
        };
        let num = |a: usize, b: usize, what: &str| -> Result<f64, String> {
            let t = col(a, b).trim();
            t.parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| err(&format!("bad {what} {t:?}")))
        };
        let name = col(12, 16).trim().to_string();
        if name.is_empty() {
            return Err(err("blank atom name (columns 13-16)"));
        }
        let alt = col(16, 17).chars().next().filter(|c| *c != ' ');
        let res_name = col(17, 20).trim().to_ascii_uppercase();
        let chain = col(20, 22).trim();
        let seq_txt = col(22, 26);
        let seq_num = decode_hy36(seq_txt)
            .and_then(|v| i32::try_from(v).ok())
            .ok_or_else(|| err(&format!("bad residue number {:?}", seq_txt.trim())))?;
        let icode = col(26, 27).chars().next().filter(|c| *c != ' ');
        let pos = Vec3::new(num(30, 38, "x")?, num(38, 46, "y")?, num(46, 54, "z")?);
        let finite = |t: &str, default: f64| {
            t.trim()
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .unwrap_or(default)
        };
        let occupancy = finite(col(54, 60), 1.0);
        let b_factor = finite(col(60, 66), 0.0);
        let serial = decode_hy36(col(6, 11)).unwrap_or(b.n_atoms() as i64 + 1);
        let mut element = col(76, 78).trim().to_ascii_uppercase();
        if element.is_empty() || element.chars().any(|c| !c.is_ascii_alphabetic()) {
            element = element_from_atom_name(col(12, 16));
        }
        let polymer = is_atom || one_letter_code(&res_name).is_some();
        b.add(Record {
            chain,
            seq: seq_num,
            icode,
            res_name: &res_name,
            polymer,
            alt,
            atom: Atom {
                serial,
                name,
                element,
                pos,
                occupancy,
                b_factor,
            },
        });
    }
    b.finish()
        .map_err(|_| "no ATOM or HETATM records".to_string())
}

/// Decodes a PDB integer field, plain decimal or hybrid-36 (the extension used by
/// gemmi, cctbx and others for serials above 99999 and residue numbers above 9999).
pub fn decode_hy36(field: &str) -> Option<i64> {
    let t = field.trim();
    if t.is_empty() {
        return None;
    }
    if let Ok(v) = t.parse::<i64>() {
        return Some(v);
    }
    let width = field.len() as u32;
    let first = t.chars().next()?;
    if t.len() != field.len() || !first.is_ascii_alphabetic() || width == 0 || width > 8 {
        return None;
    }
    let (upper, digits) = if first.is_ascii_uppercase() {
        (true, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    } else {
        (false, "0123456789abcdefghijklmnopqrstuvwxyz")
    };
    let mut v: i64 = 0;
    for c in t.chars() {
        v = v * 36 + digits.find(c)? as i64;
    }
    // "A0000" follows 99999 (width 5); "a0000" follows the upper-case range.
    let ten_w = 10i64.pow(width);
    let a_start = 10 * 36i64.pow(width - 1);
    let span = 26 * 36i64.pow(width - 1);
    Some(if upper {
        v - a_start + ten_w
    } else {
        v - a_start + ten_w + span
    })
}

/// Encodes `v` in `width` columns: decimal while it fits, hybrid-36 above, and
/// asterisks when even hybrid-36 overflows (or for too-negative values).
pub fn encode_hy36(v: i64, width: u32) -> String {
    let w = width as usize;
    let ten_w = 10i64.pow(width);
    let min = -(10i64.pow(width - 1) - 1);
    if (min..ten_w).contains(&v) {
        return format!("{v:>w$}");
    }
    let span = 26 * 36i64.pow(width - 1);
    let a_start = 10 * 36i64.pow(width - 1);
    let (mut n, digits) = if v >= ten_w && v < ten_w + span {
        (v - ten_w + a_start, b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    } else if v >= ten_w + span && v < ten_w + 2 * span {
        (
            v - ten_w - span + a_start,
            b"0123456789abcdefghijklmnopqrstuvwxyz",
        )
    } else {
        return "*".repeat(w);
    };
    let mut out = vec![b'0'; w];
    for slot in out.iter_mut().rev() {
        *slot = digits[(n % 36) as usize];
        n /= 36;
    }
    String::from_utf8(out).expect("ASCII digits")
}

/// Residue names written as ATOM; other chain residues that read back as amino
/// acids (MSE, SEP, ...) are written as HETATM, as the PDB does.
pub(crate) fn is_standard(name: &str) -> bool {
    matches!(
        name,
        "ALA"
            | "ARG"
            | "ASN"
            | "ASP"
            | "CYS"
            | "GLN"
            | "GLU"
            | "GLY"
            | "HIS"
            | "ILE"
            | "LEU"
            | "LYS"
            | "MET"
            | "PHE"
            | "PRO"
            | "SER"
            | "THR"
            | "TRP"
            | "TYR"
            | "VAL"
            | "UNK"
    ) || one_letter_code(name).is_none()
}

/// Columns 13-16: names of one-letter elements start in column 14 (" CA " is a
/// carbon), two-letter elements and four-character names in column 13.
fn atom_name_field(name: &str, element: &str) -> String {
    if name.len() >= 4 || element.trim().len() == 2 {
        format!("{name:<4.4}")
    } else {
        format!(" {name:<3}")
    }
}

fn clamp6(v: f64) -> f64 {
    v.clamp(-99.99, 999.99)
}

fn last_chars(s: &str, n: usize) -> &str {
    let start = s
        .char_indices()
        .rev()
        .nth(n.saturating_sub(1))
        .map_or(0, |(i, _)| i);
    if s.chars().count() <= n {
        s
    } else {
        &s[start..]
    }
}

fn write_atom_line(
    out: &mut String,
    record: &str,
    serial: i64,
    chain: &str,
    r: &Residue,
    a: &Atom,
) {
    let element = a.element.trim().to_ascii_uppercase();
    let element = if element.is_empty() {
        element_from_atom_name(&atom_name_field(&a.name, ""))
    } else {
        element
    };
    let _ = writeln!(
        out,
        "{record:<6}{serial} {name} {res:>3}{chain:>2}{seq}{icode}   {x:8.3}{y:8.3}{z:8.3}{occ:6.2}{b:6.2}          {el:>2}",
        serial = encode_hy36(serial, 5),
        name = atom_name_field(&a.name, &element),
        res = last_chars(&r.name, 3),
        chain = last_chars(chain, 2),
        seq = encode_hy36(r.seq_num as i64, 4),
        icode = r.ins_code.unwrap_or(' '),
        x = a.pos.x,
        y = a.pos.y,
        z = a.pos.z,
        occ = clamp6(a.occupancy),
        b = clamp6(a.b_factor),
        el = last_chars(&element, 2),
    );
}

/// The structure as PDB text; see the module doc for the layout rules.
pub fn to_pdb_string(s: &Structure) -> String {
    let mut out = String::new();
    let mut serial = 0i64;
    for c in &s.chains {
        for r in &c.residues {
            let record = if is_standard(&r.name) {
                "ATOM"
            } else {
                "HETATM"
            };
            for a in &r.atoms {
                serial += 1;
                write_atom_line(&mut out, record, serial, &c.id, r, a);
            }
        }
        if let Some(last) = c.residues.last() {
            serial += 1;
            let _ = writeln!(
                out,
                "TER   {}      {:>3}{:>2}{}{}",
                encode_hy36(serial, 5),
                last_chars(&last.name, 3),
                last_chars(&c.id, 2),
                encode_hy36(last.seq_num as i64, 4),
                last.ins_code.unwrap_or(' ')
            );
        }
    }
    for (chain, r) in s.ligands.iter().chain(s.waters.iter()) {
        for a in &r.atoms {
            serial += 1;
            write_atom_line(&mut out, "HETATM", serial, chain, r, a);
        }
    }
    out.push_str("END\n");
    out
}

/// Writes the structure as PDB (gzip when the path ends in `.gz`), atomically.
pub fn write_pdb(path: &Path, s: &Structure) -> Result<(), FileError> {
    super::write_atomically(path, to_pdb_string(s).as_bytes())
}

/// Element symbol guessed from a 4-column PDB atom name: columns 13-14 hold the
/// element right-justified, so " CA " is carbon and "CA  " is calcium.
pub fn element_from_atom_name(field: &str) -> String {
    let f: Vec<char> = field.chars().collect();
    let first = f.first().copied().unwrap_or(' ');
    let second = f.get(1).copied().unwrap_or(' ');
    if first == ' ' || first.is_ascii_digit() {
        return second.to_ascii_uppercase().to_string();
    }
    let two: String = [first, second]
        .iter()
        .collect::<String>()
        .to_ascii_uppercase();
    if crate::structure::atomic_number(&two).is_some()
        && !matches!(first, 'C' | 'N' | 'O' | 'H' | 'S')
    {
        two
    } else {
        first.to_ascii_uppercase().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "\
ATOM      1  N   MET A   1      11.104   6.134  -6.504  1.00  0.00           N
ATOM      2  CA  MET A   1      11.639   6.071  -5.147  1.00  0.00           C
ATOM      3  CA AGLY A   2      12.000   7.000  -4.000  0.50  0.00           C
ATOM      4  CA BGLY A   2      12.500   7.500  -4.500  0.50  0.00           C
ATOM      5  CA  ALA A   2A     13.000   8.000  -3.000  1.00  0.00           C
HETATM    6  CA  MSE A   3      14.000   9.000  -2.000  1.00  0.00          SE
HETATM    7 ZN    ZN A 101       1.000   1.000   1.000  1.00  0.00          ZN
HETATM    8  O   HOH A 201       2.000   2.000   2.000  1.00  0.00           O
ENDMDL
ATOM      9  CA  LYS A   4      15.000  10.000  -1.000  1.00  0.00           C
";

    #[test]
    fn reads_chains_altlocs_icodes_het() {
        let s = parse(TEXT).unwrap();
        assert_eq!(s.chains.len(), 1);
        let c = &s.chains[0];
        assert_eq!(c.residues.len(), 4);
        assert_eq!(c.residues[1].atoms.len(), 1);
        assert_eq!(c.residues[1].atoms[0].pos.x, 12.0);
        assert_eq!(c.residues[2].ins_code, Some('A'));
        assert_eq!(c.ca_sequence(), "MGAM");
        assert_eq!(s.ligands.len(), 1);
        assert_eq!(s.waters.len(), 1);
    }

    #[test]
    fn short_or_bad_lines_are_errors() {
        assert!(parse("ATOM      1  CA  MET A   1      11.104").is_err());
        assert!(parse("ATOM      1  CA  MET A   x      11.104   6.134  -6.504").is_err());
        assert!(parse("HEADER nothing here\n").is_err());
    }

    #[test]
    fn element_guess() {
        assert_eq!(element_from_atom_name(" CA "), "C");
        assert_eq!(element_from_atom_name("FE  "), "FE");
        assert_eq!(element_from_atom_name("1HB "), "H");
    }

    #[test]
    fn first_model_only_even_without_endmdl() {
        let text = "\
MODEL        1
ATOM      1  CA  GLY A   1       1.000   2.000   3.000  1.00 10.00           C
MODEL        2
ATOM      1  CA  GLY A   1       9.000   9.000   9.000  1.00 10.00           C
ATOM      2  CA  ALA A   2       9.000   9.000   9.000  1.00 10.00           C
";
        let s = parse(text).unwrap();
        assert_eq!(s.ca_coords(), vec![Vec3::new(1.0, 2.0, 3.0)]);
    }

    #[test]
    fn microheterogeneity_keeps_first_conformer() {
        // Residue 5 is SER in conformer A and THR in conformer B (as in 1EJG).
        let text = "\
ATOM      1  CA ASER A   5       1.000   1.000   1.000  0.60 10.00           C
ATOM      2  OG ASER A   5       1.500   1.000   1.000  0.60 10.00           O
ATOM      3  CA BTHR A   5       1.100   1.000   1.000  0.40 10.00           C
ATOM      4  OG1BTHR A   5       1.600   1.000   1.000  0.40 10.00           O
ATOM      5  CA  GLY A   6       4.000   1.000   1.000  1.00 10.00           C
";
        let s = parse(text).unwrap();
        let c = &s.chains[0];
        assert_eq!(c.ca_sequence(), "SG");
        assert_eq!(c.residues[0].atoms.len(), 2);
        assert_eq!(c.residues[0].atoms[0].pos.x, 1.0);
    }

    #[test]
    fn two_chains_and_resumed_chain() {
        let text = "\
ATOM      1  CA  GLY A   1       1.000   2.000   3.000  1.00 10.00           C
TER
ATOM      2  CA  GLY B   1       1.000   2.000   3.000  1.00 10.00           C
HETATM    3 CA    CA A 301       5.000   5.000   5.000  1.00 10.00          CA
ATOM      4  CA  ALA A   2       1.000   2.000   3.000  1.00 10.00           C
";
        let s = parse(text).unwrap();
        assert_eq!(s.chains.len(), 2);
        assert_eq!(s.chain("A").unwrap().ca_sequence(), "GA");
        assert_eq!(s.ligands[0].1.atoms[0].element, "CA");
        assert_eq!(s.ligands[0].0, "A");
    }

    #[test]
    fn hybrid36_round_trip_and_known_values() {
        // Values from the hybrid-36 specification (cctbx iotbx/pdb/hybrid_36.py).
        assert_eq!(encode_hy36(99999, 5), "99999");
        assert_eq!(encode_hy36(100000, 5), "A0000");
        assert_eq!(encode_hy36(9999, 4), "9999");
        assert_eq!(encode_hy36(10000, 4), "A000");
        assert_eq!(encode_hy36(-999, 4), "-999");
        assert_eq!(decode_hy36("A0000"), Some(100000));
        assert_eq!(decode_hy36("a000"), Some(10000 + 26 * 36i64.pow(3)));
        for v in [-999i64, 0, 1, 9999, 10000, 123456, 1_000_000, 2_436_111] {
            assert_eq!(decode_hy36(&encode_hy36(v, 5)), Some(v), "{v}");
        }
        assert_eq!(decode_hy36("  -1"), Some(-1));
        assert_eq!(decode_hy36(" A1 "), None);
    }

    #[test]
    fn writer_columns_follow_the_format() {
        let s = parse(TEXT).unwrap();
        let out = to_pdb_string(&s);
        let lines: Vec<&str> = out.lines().collect();
        // Line written for ATOM 1 of the input, B-factor changed by the caller.
        assert_eq!(
            lines[0],
            "ATOM      1  N   MET A   1      11.104   6.134  -6.504  1.00  0.00           N"
        );
        let het = lines.iter().find(|l| l.contains(" ZN ")).unwrap();
        assert_eq!(&het[..6], "HETATM");
        assert_eq!(&het[12..16], "ZN  ");
        assert_eq!(&het[76..78], "ZN");
        assert!(lines
            .iter()
            .any(|l| l.starts_with("HETATM") && &l[17..20] == "MSE"));
        assert_eq!(lines.iter().filter(|l| l.starts_with("TER")).count(), 1);
        assert_eq!(*lines.last().unwrap(), "END");
        assert!(lines.iter().all(|l| l.len() <= 80));
        let back = parse(&out).unwrap();
        assert_eq!(back, {
            let mut s = s.clone();
            for (i, a) in s.atoms_mut().enumerate() {
                a.serial = i as i64 + 1;
            }
            // Ligand and water serials follow the TER record.
            s.ligands[0].1.atoms[0].serial = 7;
            s.waters[0].1.atoms[0].serial = 8;
            s
        });
    }

    #[test]
    fn caller_b_factors_are_written() {
        let mut s = parse(TEXT).unwrap();
        for (i, a) in s.atoms_mut().enumerate() {
            a.b_factor = 10.0 * i as f64 + 0.25;
        }
        let back = parse(&to_pdb_string(&s)).unwrap();
        let b: Vec<f64> = back.atoms().map(|a| a.b_factor).collect();
        assert_eq!(b, vec![0.25, 10.25, 20.25, 30.25, 40.25]);
    }

    #[test]
    fn hetatm_amino_acids_stay_in_the_chain_ligands_do_not() {
        // PCA (pyroglutamate) opens antibody chains as HETATM; FMN is a cofactor.
        let text = "\
HETATM    1  N   PCA H   1     -57.965 -94.947  60.912  1.00 96.71           N
HETATM    2  CA  PCA H   1     -58.576 -93.811  60.149  1.00 94.70           C
HETATM    3  C   PCA H   1     -58.000 -93.000  60.000  1.00 94.70           C
ATOM      4  N   VAL H   2     -57.000 -92.000  59.000  1.00 90.00           N
ATOM      5  CA  VAL H   2     -56.000 -91.000  58.000  1.00 90.00           C
HETATM    6  N1  FMN H 200      10.000  10.000  10.000  1.00 20.00           N
HETATM    7  C2  FMN H 200      11.000  10.000  10.000  1.00 20.00           C
HETATM    8  O   HOH H 301      12.000  10.000  10.000  1.00 20.00           O
";
        let s = parse(text).unwrap();
        assert_eq!(s.chains[0].ca_sequence(), "EV");
        assert_eq!(s.ligands.len(), 1);
        assert_eq!(s.ligands[0].1.name, "FMN");
        assert_eq!(s.waters.len(), 1);
    }
}
