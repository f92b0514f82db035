//! mmCIF format: reading the `_atom_site` category of the first data block (first
//! model only) and writing a minimal `_atom_site` loop with caller-set B-factors.
//!
//! The tokenizer follows CIF 1.1: whitespace-separated values, `'...'` and
//! `"..."` strings (a quote ends a string only when followed by whitespace, so
//! `'O5''` is not special), `;` text fields spanning lines, `#` comments, and the
//! null values `?` (unknown) and `.` (not applicable) when unquoted.
//!
//! Reading uses the author fields (`auth_asym_id`, `auth_seq_id`, `auth_comp_id`,
//! `auth_atom_id`) when present and not null, else the `label_*` ones, so that
//! chain ids and residue numbers match the PDB file of the same entry. The
//! residue policy (altlocs, insertion codes, waters and ligands set aside) is the
//! PDB reader's, shared through [`super::builder`]: `group_PDB` plays the role of
//! the ATOM/HETATM record name.
//!
//! Writing emits a minimal `_entity` / `_entity_poly` pair (one entity per
//! chain, then one per ligand residue and one for all waters) and one
//! `_atom_site` loop with the columns gemmi and PyMOL need; `label_seq_id`
//! counts the chain's residues from 1. Checked by hand with gemmi 0.7: atoms,
//! elements, chains and polymer entities read back as written.

use super::builder::{Builder, Record};
use super::FileError;
use crate::structure::{one_letter_code, Atom, Residue, Structure};
use crate::Vec3;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;

/// One CIF token with the line it starts on.
#[derive(Debug, Clone, PartialEq)]
struct Token<'a> {
    text: &'a str,
    line: usize,
    /// Quoted strings and text fields are values even when they look like
    /// `?`, `.`, `loop_` or a tag.
    quoted: bool,
}

impl Token<'_> {
    fn is_null(&self) -> bool {
        !self.quoted && (self.text == "?" || self.text == ".")
    }
    fn is_tag(&self) -> bool {
        !self.quoted && self.text.starts_with('_')
    }
    fn is_keyword(&self, kw: &str) -> bool {
        !self.quoted && starts_with_ignore_case(self.text, kw)
    }
}

/// ASCII case-insensitive prefix test that never slices inside a character.
fn starts_with_ignore_case(s: &str, prefix: &str) -> bool {
    s.as_bytes()
        .get(..prefix.len())
        .is_some_and(|b| b.eq_ignore_ascii_case(prefix.as_bytes()))
}

/// Splits CIF text into tokens. Errors (unterminated strings or text fields)
/// carry the line number.
fn tokenize(text: &str) -> Result<Vec<Token<'_>>, String> {
    let mut tokens = Vec::new();
    let mut lines = text.lines().enumerate();
    // Byte offsets into `text`, to slice multi-line text fields out of it.
    let base = text.as_ptr() as usize;
    while let Some((i, line)) = lines.next() {
        let lineno = i + 1;
        let Some(rest) = line.strip_prefix(';') else {
            tokenize_line(line, lineno, &mut tokens)?;
            continue;
        };
        // A text field runs until a line that starts with ';'.
        let start = rest.as_ptr() as usize - base;
        let mut end = None;
        for (j, l) in lines.by_ref() {
            if let Some(after) = l.strip_prefix(';') {
                end = Some((l.as_ptr() as usize - base, j + 1, after));
                break;
            }
        }
        let (end, close_line, after) =
            end.ok_or_else(|| format!("line {lineno}: unterminated ';' text field"))?;
        tokens.push(Token {
            text: text[start..end].trim_end_matches(['\n', '\r']),
            line: lineno,
            quoted: true,
        });
        // Values may follow the closing ';' on its line.
        tokenize_line(after, close_line, &mut tokens)?;
    }
    Ok(tokens)
}

fn tokenize_line<'a>(
    line: &'a str,
    lineno: usize,
    tokens: &mut Vec<Token<'a>>,
) -> Result<(), String> {
    let bytes = line.as_bytes();
    let mut p = 0;
    while p < bytes.len() {
        let c = bytes[p];
        if c.is_ascii_whitespace() {
            p += 1;
            continue;
        }
        if c == b'#' {
            break;
        }
        if c == b'\'' || c == b'"' {
            // The closing quote is the first matching one followed by whitespace
            // or the end of the line.
            let close = (p + 1..bytes.len()).find(|&q| {
                bytes[q] == c && (q + 1 == bytes.len() || bytes[q + 1].is_ascii_whitespace())
            });
            let q =
                close.ok_or_else(|| format!("line {lineno}: unterminated {} string", c as char))?;
            tokens.push(Token {
                text: &line[p + 1..q],
                line: lineno,
                quoted: true,
            });
            p = q + 1;
            continue;
        }
        let start = p;
        while p < bytes.len() && !bytes[p].is_ascii_whitespace() {
            p += 1;
        }
        tokens.push(Token {
            text: &line[start..p],
            line: lineno,
            quoted: false,
        });
    }
    Ok(())
}

/// The `_atom_site` items of the first data block: column names (lower case,
/// without the category) and the rows of values.
struct AtomSite<'a> {
    columns: HashMap<String, usize>,
    n_cols: usize,
    values: Vec<Token<'a>>,
}

impl<'a> AtomSite<'a> {
    fn n_rows(&self) -> usize {
        self.values.len().checked_div(self.n_cols).unwrap_or(0)
    }
    /// The value of column `name` in row `row`, `None` when the column is absent
    /// or the value is null.
    fn get(&self, row: usize, name: &str) -> Option<&Token<'a>> {
        let c = *self.columns.get(name)?;
        let t = &self.values[row * self.n_cols + c];
        (!t.is_null()).then_some(t)
    }
    fn has(&self, name: &str) -> bool {
        self.columns.contains_key(name)
    }
}

const CATEGORY: &str = "_atom_site.";

fn atom_site_tag(t: &Token) -> Option<String> {
    if !t.is_tag() || t.text.len() <= CATEGORY.len() || !starts_with_ignore_case(t.text, CATEGORY) {
        return None;
    }
    // The prefix is ASCII, so its end is a character boundary.
    Some(t.text[CATEGORY.len()..].to_ascii_lowercase())
}

fn find_atom_site<'a>(tokens: &[Token<'a>]) -> Result<AtomSite<'a>, String> {
    let mut i = 0;
    let mut seen_data = false;
    // Key-value pairs `_atom_site.x 1.0` (a one-atom file) are collected as one row.
    let mut single = AtomSite {
        columns: HashMap::new(),
        n_cols: 0,
        values: Vec::new(),
    };
    while i < tokens.len() {
        let t = &tokens[i];
        if t.is_keyword("data_") {
            if seen_data {
                break; // Only the first data block.
            }
            seen_data = true;
            i += 1;
        } else if t.is_keyword("loop_") {
            i += 1;
            let first_tag = i;
            while i < tokens.len() && tokens[i].is_tag() {
                i += 1;
            }
            let tags = &tokens[first_tag..i];
            let first_value = i;
            while i < tokens.len()
                && !tokens[i].is_tag()
                && !["loop_", "data_", "save_", "global_", "stop_"]
                    .iter()
                    .any(|k| tokens[i].is_keyword(k))
            {
                i += 1;
            }
            if tags.is_empty() {
                return Err(format!("line {}: loop_ without tags", t.line));
            }
            if atom_site_tag(&tags[0]).is_none() {
                continue;
            }
            let mut columns = HashMap::new();
            for (k, tag) in tags.iter().enumerate() {
                let name = atom_site_tag(tag).ok_or_else(|| {
                    format!("line {}: {} in the _atom_site loop", tag.line, tag.text)
                })?;
                columns.insert(name, k);
            }
            let values = tokens[first_value..i].to_vec();
            if !values.len().is_multiple_of(tags.len()) {
                let line = values.last().map_or(t.line, |v| v.line);
                return Err(format!(
                    "line {line}: the _atom_site loop has {} values, not a multiple of its {} columns",
                    values.len(),
                    tags.len()
                ));
            }
            return Ok(AtomSite {
                columns,
                n_cols: tags.len(),
                values,
            });
        } else if let Some(name) = atom_site_tag(t) {
            let v = tokens
                .get(i + 1)
                .filter(|v| !v.is_tag() && !v.is_keyword("loop_") && !v.is_keyword("data_"))
                .ok_or_else(|| format!("line {}: {} has no value", t.line, t.text))?;
            single.columns.insert(name, single.n_cols);
            single.n_cols += 1;
            single.values.push(v.clone());
            i += 2;
        } else {
            i += 1;
        }
    }
    if single.n_cols > 0 {
        return Ok(single);
    }
    if !seen_data {
        return Err("no data_ block: not an mmCIF file".into());
    }
    Err("no _atom_site items in the first data block".into())
}

/// Parses mmCIF text (first data block, first model). Errors carry the line number.
pub fn parse(text: &str) -> Result<Structure, String> {
    let tokens = tokenize(text)?;
    let site = find_atom_site(&tokens)?;
    for need in ["cartn_x", "cartn_y", "cartn_z"] {
        if !site.has(need) {
            return Err(format!("_atom_site has no {need} column"));
        }
    }
    let pick = |row: usize, auth: &str, label: &str| -> Option<&Token> {
        site.get(row, auth).or_else(|| site.get(row, label))
    };
    let mut b = Builder::default();
    let mut first_model: Option<&str> = None;
    for row in 0..site.n_rows() {
        let line = site.values[row * site.n_cols].line;
        let err = |what: String| format!("line {line}: {what}");
        if let Some(m) = site.get(row, "pdbx_pdb_model_num") {
            match first_model {
                None => first_model = Some(m.text),
                Some(f) if f != m.text => continue,
                Some(_) => {}
            }
        }
        let num = |name: &str| -> Result<f64, String> {
            let t = site
                .get(row, name)
                .ok_or_else(|| err(format!("{name} is null")))?;
            t.text
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| err(format!("bad {name} {:?}", t.text)))
        };
        let pos = Vec3::new(num("cartn_x")?, num("cartn_y")?, num("cartn_z")?);
        let name = pick(row, "auth_atom_id", "label_atom_id")
            .ok_or_else(|| err("no atom name (auth_atom_id / label_atom_id)".into()))?
            .text
            .to_string();
        let res_name = pick(row, "auth_comp_id", "label_comp_id")
            .ok_or_else(|| err("no residue name (auth_comp_id / label_comp_id)".into()))?
            .text
            .to_ascii_uppercase();
        // A null author chain id is a blank PDB chain id, not a cue to use the label.
        let chain = if site.has("auth_asym_id") {
            site.get(row, "auth_asym_id")
        } else {
            site.get(row, "label_asym_id")
        }
        .map_or("", |t| t.text);
        let seq_tok = pick(row, "auth_seq_id", "label_seq_id")
            .ok_or_else(|| err("no residue number (auth_seq_id / label_seq_id)".into()))?;
        let seq: i32 = seq_tok
            .text
            .parse()
            .map_err(|_| err(format!("bad residue number {:?}", seq_tok.text)))?;
        let icode = site
            .get(row, "pdbx_pdb_ins_code")
            .and_then(|t| t.text.chars().next());
        let alt = site
            .get(row, "label_alt_id")
            .and_then(|t| t.text.chars().next());
        let opt_num = |name: &str, default: f64| {
            site.get(row, name)
                .and_then(|t| t.text.parse::<f64>().ok())
                .filter(|v| v.is_finite())
                .unwrap_or(default)
        };
        let element = match site.get(row, "type_symbol") {
            Some(t) if t.text.chars().all(|c| c.is_ascii_alphabetic()) => {
                t.text.to_ascii_uppercase()
            }
            _ => super::pdb::element_from_atom_name(&format!(" {name:<3}")),
        };
        let polymer = match site.get(row, "group_pdb") {
            Some(g) => g.text.eq_ignore_ascii_case("ATOM") || one_letter_code(&res_name).is_some(),
            // Without group_PDB a polymer residue is one with a label_seq_id.
            None => site.get(row, "label_seq_id").is_some() || one_letter_code(&res_name).is_some(),
        };
        let serial = site
            .get(row, "id")
            .and_then(|t| t.text.parse().ok())
            .unwrap_or(row as i64 + 1);
        b.add(Record {
            chain,
            seq,
            icode,
            res_name: &res_name,
            polymer,
            alt,
            atom: Atom {
                serial,
                name,
                element,
                pos,
                occupancy: opt_num("occupancy", 1.0),
                b_factor: opt_num("b_iso_or_equiv", 0.0),
            },
        });
    }
    b.finish()
        .map_err(|_| "the _atom_site loop has no atoms".to_string())
}

/// A CIF value: bare when that is unambiguous, else quoted; empty becomes `.`.
fn cif_value(s: &str) -> String {
    if s.is_empty() {
        return ".".into();
    }
    let needs_quote = s.chars().any(|c| c.is_whitespace())
        || s.starts_with(['_', '#', '$', '\'', '"', '[', ']', ';'])
        || s == "?"
        || s == "."
        || ["data_", "loop_", "save_", "global_", "stop_"]
            .iter()
            .any(|k| starts_with_ignore_case(s, k));
    if !needs_quote {
        s.to_string()
    } else if !s.contains('\'') {
        format!("'{s}'")
    } else if !s.contains("\" ") && !s.ends_with('"') && !s.contains('\n') {
        format!("\"{s}\"")
    } else {
        // Only a text field can hold this; the row goes on after its closing ';'.
        format!("\n;{s}\n;")
    }
}

const COLUMNS: [&str; 20] = [
    "group_PDB",
    "id",
    "type_symbol",
    "label_atom_id",
    "label_alt_id",
    "label_comp_id",
    "label_asym_id",
    "label_entity_id",
    "label_seq_id",
    "pdbx_PDB_ins_code",
    "Cartn_x",
    "Cartn_y",
    "Cartn_z",
    "occupancy",
    "B_iso_or_equiv",
    "auth_seq_id",
    "auth_comp_id",
    "auth_asym_id",
    "auth_atom_id",
    "pdbx_PDB_model_num",
];

#[allow(clippy::too_many_arguments)]
fn write_row(
    out: &mut String,
    serial: usize,
    group: &str,
    asym: &str,
    entity: usize,
    label_seq: Option<usize>,
    chain: &str,
    r: &Residue,
    a: &Atom,
) {
    let element = if a.element.trim().is_empty() {
        super::pdb::element_from_atom_name(&format!(" {:<3}", a.name))
    } else {
        a.element.trim().to_string()
    };
    let _ = writeln!(
        out,
        "{group:<6} {serial:<5} {el:<2} {name:<4} . {res:<3} {asym} {entity} {lseq} {icode} {x:.3} {y:.3} {z:.3} {occ:.2} {b:.2} {seq} {res:<3} {chain} {name:<4} 1",
        el = cif_value(&element),
        name = cif_value(&a.name),
        res = cif_value(&r.name),
        asym = cif_value(asym),
        lseq = label_seq.map_or(".".to_string(), |n| n.to_string()),
        icode = r.ins_code.map_or("?".to_string(), |c| cif_value(&c.to_string())),
        x = a.pos.x,
        y = a.pos.y,
        z = a.pos.z,
        occ = a.occupancy,
        b = a.b_factor,
        seq = r.seq_num,
        chain = cif_value(chain),
    );
}

/// The structure as an mmCIF `_atom_site` loop in a block named `data_mapfold`.
pub fn to_mmcif_string(s: &Structure) -> String {
    let mut out = String::from("data_mapfold\n#\n");
    // Entities, numbered as the atom rows below number them, so that gemmi and
    // PyMOL tell polymer, ligand and water apart without guessing.
    out.push_str("loop_\n_entity.id\n_entity.type\n");
    let n_chains = s.chains.len();
    for e in 1..=n_chains {
        let _ = writeln!(out, "{e} polymer");
    }
    for e in 0..s.ligands.len() {
        let _ = writeln!(out, "{} non-polymer", n_chains + 1 + e);
    }
    if !s.waters.is_empty() {
        let _ = writeln!(out, "{} water", n_chains + s.ligands.len() + 1);
    }
    if n_chains > 0 {
        out.push_str("#\nloop_\n_entity_poly.entity_id\n_entity_poly.type\n");
        for (e, c) in s.chains.iter().enumerate() {
            let peptide = c
                .residues
                .iter()
                .any(|r| one_letter_code(&r.name).is_some());
            let kind = if peptide { "'polypeptide(L)'" } else { "other" };
            let _ = writeln!(out, "{} {kind}", e + 1);
        }
    }
    out.push_str("#\nloop_\n");
    for c in COLUMNS {
        let _ = writeln!(out, "_atom_site.{c}");
    }
    let mut serial = 0;
    let mut entity = 0;
    // label_asym_id must be unique per chain/ligand/water group; the chains keep
    // their own ids and the rest get ids no chain uses.
    let mut used: Vec<String> = s.chains.iter().map(|c| c.id.clone()).collect();
    let mut fresh = |base: &str| -> String {
        let mut k = 1;
        loop {
            let id = format!("{}{}", if base.is_empty() { "X" } else { base }, k);
            if !used.contains(&id) {
                used.push(id.clone());
                return id;
            }
            k += 1;
        }
    };
    for c in &s.chains {
        entity += 1;
        for (i, r) in c.residues.iter().enumerate() {
            let group = if super::pdb::is_standard(&r.name) {
                "ATOM"
            } else {
                "HETATM"
            };
            for a in &r.atoms {
                serial += 1;
                write_row(
                    &mut out,
                    serial,
                    group,
                    &c.id,
                    entity,
                    Some(i + 1),
                    &c.id,
                    r,
                    a,
                );
            }
        }
    }
    for (chain, r) in &s.ligands {
        entity += 1;
        let asym = fresh(chain);
        for a in &r.atoms {
            serial += 1;
            write_row(&mut out, serial, "HETATM", &asym, entity, None, chain, r, a);
        }
    }
    if !s.waters.is_empty() {
        entity += 1;
        let mut asym_of: HashMap<&str, String> = HashMap::new();
        for (chain, r) in &s.waters {
            let asym = asym_of
                .entry(chain.as_str())
                .or_insert_with(|| fresh(chain))
                .clone();
            for a in &r.atoms {
                serial += 1;
                write_row(&mut out, serial, "HETATM", &asym, entity, None, chain, r, a);
            }
        }
    }
    out.push_str("#\n");
    out
}

/// Writes the structure as mmCIF (gzip when the path ends in `.gz`), atomically.
pub fn write_mmcif(path: &Path, s: &Structure) -> Result<(), FileError> {
    super::write_atomically(path, to_mmcif_string(s).as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    const CIF: &str = r#"data_TEST
# a comment
_entry.id TEST
_struct.title
;A title on
several lines with 'quotes' and _tags
;
loop_
_atom_site.group_PDB
_atom_site.id
_atom_site.type_symbol
_atom_site.label_atom_id
_atom_site.label_alt_id
_atom_site.label_comp_id
_atom_site.label_asym_id
_atom_site.label_seq_id
_atom_site.pdbx_PDB_ins_code
_atom_site.Cartn_x
_atom_site.Cartn_y
_atom_site.Cartn_z
_atom_site.occupancy
_atom_site.B_iso_or_equiv
_atom_site.auth_seq_id
_atom_site.auth_asym_id
_atom_site.pdbx_PDB_model_num
ATOM 1 N N . MET A 1 ? 1.0 2.0 3.0 1.00 10.0 5 B 1
ATOM 2 C CA . MET A 1 ? 1.5 2.0 3.0 1.00 11.0 5 B 1
ATOM 3 C CA A GLY A 2 ? 2.0 2.0 3.0 0.50 12.0 6 B 1
ATOM 4 C CA B GLY A 2 ? 2.5 2.0 3.0 0.50 12.0 6 B 1
ATOM 5 C CA . ALA A 3 A 3.0 2.0 3.0 1.00 13.0 6 B 1
ATOM 6 C "C5'" . DA C 1 ? 4.0 2.0 3.0 1.00 13.0 1 'C D' 1
HETATM 7 ZN ZN . ZN D . ? 5.0 5.0 5.0 1.00 20.0 101 B 1
HETATM 8 O O . HOH E . ? 6.0 6.0 6.0 1.00 30.0 201 B 1
ATOM 9 C CA . LYS A 4 ? 9.0 9.0 9.0 1.00 10.0 7 B 2
#
data_SECOND
loop_
_atom_site.id
"#;

    #[test]
    fn tokenizer_quotes_text_fields_and_nulls() {
        let t = tokenize("a 'b c' \"it's\" 'O5'' ? . '?'\n;x\ny\n;\n# c\nz").unwrap();
        let after = tokenize("a\n;text\n; b c").unwrap();
        assert_eq!(
            after.iter().map(|t| t.text).collect::<Vec<_>>(),
            ["a", "text", "b", "c"]
        );
        let texts: Vec<&str> = t.iter().map(|t| t.text).collect();
        assert_eq!(
            texts,
            ["a", "b c", "it's", "O5'", "?", ".", "?", "x\ny", "z"]
        );
        assert!(t[4].is_null() && t[5].is_null() && !t[6].is_null());
        assert_eq!(t[8].line, 6);
        assert!(tokenize("a 'open").unwrap_err().contains("line 1"));
        assert!(tokenize("x\n;never closed\n")
            .unwrap_err()
            .contains("line 2"));
    }

    #[test]
    fn reads_atom_site_with_auth_fields_altlocs_icodes_het() {
        let s = parse(CIF).unwrap();
        let b = s.chain("B").unwrap();
        assert_eq!(b.ca_sequence(), "MGA");
        assert_eq!(b.residues[0].seq_num, 5);
        assert_eq!(b.residues[1].atoms.len(), 1);
        assert_eq!(b.residues[1].atoms[0].pos.x, 2.0);
        assert_eq!(b.residues[2].ins_code, Some('A'));
        assert_eq!(b.residues[2].atoms[0].b_factor, 13.0);
        // A quoted chain id with a space, and a quoted atom name with a prime.
        let cd = s.chain("C D").unwrap();
        assert_eq!(cd.residues[0].atoms[0].name, "C5'");
        assert_eq!(s.ligands.len(), 1);
        assert_eq!(s.ligands[0].1.atoms[0].element, "ZN");
        assert_eq!(s.waters.len(), 1);
        // Model 2 is not read.
        assert_eq!(s.atoms().count(), 5);
    }

    #[test]
    fn label_fields_when_no_auth_fields() {
        let text = "data_x\nloop_\n_atom_site.label_atom_id\n_atom_site.label_comp_id\n_atom_site.label_asym_id\n_atom_site.label_seq_id\n_atom_site.Cartn_x\n_atom_site.Cartn_y\n_atom_site.Cartn_z\nCA GLY A 1 1 2 3\nCA SER A 2 4 5 6\n";
        let s = parse(text).unwrap();
        assert_eq!(s.chain("A").unwrap().ca_sequence(), "GS");
        assert_eq!(s.chains[0].residues[1].atoms[0].element, "C");
    }

    #[test]
    fn errors_name_lines() {
        let e = parse("data_x\nloop_\n_atom_site.Cartn_x\n_atom_site.Cartn_y\n_atom_site.Cartn_z\n1 2 3\n4 5\n")
            .unwrap_err();
        assert!(e.contains("line 7"), "{e}");
        let e = parse("data_x\nloop_\n_atom_site.label_atom_id\n_atom_site.label_comp_id\n_atom_site.label_asym_id\n_atom_site.label_seq_id\n_atom_site.Cartn_x\n_atom_site.Cartn_y\n_atom_site.Cartn_z\nCA GLY A 1 1 2 3\nCA GLY A 2 1 x 3\n").unwrap_err();
        assert!(e.contains("line 11") && e.contains("cartn_y"), "{e}");
        assert!(parse("data_x\n_entry.id x\n")
            .unwrap_err()
            .contains("no _atom_site"));
    }

    #[test]
    fn write_then_read_is_identity() {
        let mut s = parse(CIF).unwrap();
        for (i, a) in s.atoms_mut().enumerate() {
            a.b_factor = 1.5 * i as f64;
        }
        let text = to_mmcif_string(&s);
        let back = parse(&text).unwrap();
        // Serials are renumbered; everything else must be equal.
        let strip = |mut s: Structure| {
            s.chains
                .iter_mut()
                .flat_map(|c| c.residues.iter_mut())
                .chain(s.ligands.iter_mut().map(|(_, r)| r))
                .chain(s.waters.iter_mut().map(|(_, r)| r))
                .flat_map(|r| r.atoms.iter_mut())
                .for_each(|a| a.serial = 0);
            s
        };
        assert_eq!(strip(back), strip(s));
        assert!(text.contains(" C5' "));
        assert!(text.contains("_entity.type\n1 polymer\n2 polymer\n3 non-polymer\n4 water\n"));
        assert!(text.contains("'C D'"));
    }

    #[test]
    fn value_quoting() {
        assert_eq!(cif_value("CA"), "CA");
        assert_eq!(cif_value(""), ".");
        assert_eq!(cif_value("?"), "'?'");
        assert_eq!(cif_value("_x"), "'_x'");
        // A quote inside a value is not special (CIF 1.1), as the PDB writes O5'.
        assert_eq!(cif_value("O5'"), "O5'");
        assert_eq!(cif_value("'a"), "\"'a\"");
        let odd = "x' \"y\" ";
        let row = format!("{} z", cif_value(odd));
        let t = tokenize(&row).unwrap();
        assert_eq!((t[0].text, t[1].text), (odd, "z"));
        assert_eq!(cif_value("data_1"), "'data_1'");
    }
}
