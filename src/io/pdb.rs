//! PDB format: reading ATOM/HETATM records of the first model, writing with
//! caller-set B-factors.
//!
//! Policy (as gemmi and the TM-score program do): only the first MODEL is read;
//! of alternate locations the first one listed for each atom is kept; insertion
//! codes make separate residues; waters (HOH, WAT, DOD) and non-amino-acid HETATM
//! residues go to [`Structure::waters`] / [`Structure::ligands`]; modified amino
//! acids listed as HETATM (MSE, SEP, ...) stay in the chain.

use crate::structure::{one_letter_code, Atom, Chain, Residue, Structure};
use crate::Vec3;

/// Parses PDB text. Errors carry the line number; the caller adds the file name.
pub fn parse(text: &str) -> Result<Structure, String> {
    let mut s = Structure::default();
    // Residue key of the residue being filled: (chain, seq, icode, name, is_polymer).
    let mut current: Option<(String, i32, Option<char>, String, bool)> = None;
    let mut residue: Option<Residue> = None;
    let mut n_atoms = 0usize;

    fn flush(
        s: &mut Structure,
        key: &Option<(String, i32, Option<char>, String, bool)>,
        r: Option<Residue>,
    ) {
        let (Some((chain, _, _, name, polymer)), Some(r)) = (key, r) else {
            return;
        };
        if matches!(name.as_str(), "HOH" | "WAT" | "DOD" | "H2O") {
            s.waters.push((chain.clone(), r));
        } else if !polymer {
            s.ligands.push((chain.clone(), r));
        } else {
            match s.chains.last_mut() {
                Some(c) if c.id == *chain => c.residues.push(r),
                _ => match s.chains.iter_mut().find(|c| c.id == *chain) {
                    // A chain interrupted by TER and HETATM records and resumed.
                    Some(c) => c.residues.push(r),
                    None => s.chains.push(Chain {
                        id: chain.clone(),
                        residues: vec![r],
                    }),
                },
            }
        }
    }

    for (lineno, line) in text.lines().enumerate() {
        let rec = line.get(..6).unwrap_or(line);
        if rec.starts_with("ENDMDL") {
            break;
        }
        let is_atom = rec == "ATOM  ";
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
        let alt = col(16, 17).chars().next().unwrap_or(' ');
        let res_name = col(17, 20).trim().to_ascii_uppercase();
        let chain = col(21, 22).trim().to_string();
        let seq_txt = col(22, 26).trim();
        let seq_num: i32 = seq_txt
            .parse()
            .map_err(|_| err(&format!("bad residue number {seq_txt:?}")))?;
        let icode = col(26, 27).chars().next().filter(|c| *c != ' ');
        let pos = Vec3::new(num(30, 38, "x")?, num(38, 46, "y")?, num(46, 54, "z")?);
        let occupancy = col(54, 60).trim().parse().unwrap_or(1.0);
        let b_factor = col(60, 66).trim().parse().unwrap_or(0.0);
        let serial = col(6, 11).trim().parse().unwrap_or(n_atoms as i64 + 1);
        let mut element = col(76, 78).trim().to_ascii_uppercase();
        if element.is_empty() || element.chars().any(|c| !c.is_ascii_alphabetic()) {
            element = element_from_atom_name(col(12, 16));
        }
        let polymer = is_atom || one_letter_code(&res_name).is_some();
        let key = (chain, seq_num, icode, res_name.clone(), polymer);
        if current.as_ref() != Some(&key) {
            flush(&mut s, &current, residue.take());
            current = Some(key);
            residue = Some(Residue {
                name: res_name,
                seq_num,
                ins_code: icode,
                atoms: Vec::new(),
            });
        }
        let r = residue.as_mut().expect("residue set above");
        // Alternate locations: keep the first listed copy of each atom name.
        if alt != ' ' && r.atoms.iter().any(|a| a.name == name) {
            continue;
        }
        r.atoms.push(Atom {
            serial,
            name,
            element,
            pos,
            occupancy,
            b_factor,
        });
        n_atoms += 1;
    }
    flush(&mut s, &current, residue.take());
    if n_atoms == 0 {
        return Err("no ATOM or HETATM records".into());
    }
    Ok(s)
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
HETATM    7 ZN    ZN A 101      1.000   1.000   1.000  1.00  0.00          ZN
HETATM    8  O   HOH A 201      2.000   2.000   2.000  1.00  0.00           O
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
}
