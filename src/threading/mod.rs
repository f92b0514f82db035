//! Templates: the threading library and the meta-threading search (the paper's
//! "Initial template identification by LOMETS", Methods).
//!
//! LOMETS runs several threading programs, each scoring a query-template
//! alignment its own way, normalises each program's score to a Z-score over the
//! library (Zn = Z / Z0, Z0 a per-program cutoff), keeps the top 300 templates
//! and calls a target Easy when, on average over programs, one or more templates
//! have Zn > 1. Here the "programs" are scoring schemes of one affine-gap dynamic
//! programming aligner:
//!
//! - [`library`]: the binary template library (sequence, backbone, secondary
//!   structure from [`dssp`], burial from [`burial`]), built from PDB files.
//! - [`ssp`]: secondary structure predicted from sequence (a small window MLP
//!   trained on the train split; weights in `weights/ssp.bin`).
//! - [`align`]: local alignment with affine gaps (Gotoh).
//! - [`scoring`]: BLOSUM62, predicted-vs-template secondary structure,
//!   hydrophobicity against burial, and a 3D-1D environment table.
//! - [`search`]: thread a query against every template, Z-scores per scheme,
//!   combination, identity filter, top N, Easy/Hard.
//! - [`hhr`]: HHsearch `.hhr` results as an extra threading source.
//! - [`mod@bench`]: first-template and best-of-top-10 TM-scores on the test chains.

pub mod align;
pub mod bench;
pub mod burial;
pub mod dssp;
pub mod hhr;
pub mod library;
pub mod scoring;
pub mod search;
pub mod ssp;

/// Three-state secondary structure, the reduction of DSSP's eight states used
/// by threading (H, G, I → helix; E, B → strand; the rest → coil).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ss {
    Helix = 0,
    Strand = 1,
    Coil = 2,
}

impl Ss {
    pub const ALL: [Ss; 3] = [Ss::Helix, Ss::Strand, Ss::Coil];

    pub fn letter(self) -> char {
        match self {
            Ss::Helix => 'H',
            Ss::Strand => 'E',
            Ss::Coil => 'C',
        }
    }

    pub fn from_letter(c: char) -> Option<Ss> {
        match c {
            'H' | 'G' | 'I' => Some(Ss::Helix),
            'E' | 'B' => Some(Ss::Strand),
            'C' | '-' | 'T' | 'S' | 'P' | ' ' => Some(Ss::Coil),
            _ => None,
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

/// A secondary-structure string ("HHHEEC…") from states.
pub fn ss_string(ss: &[Ss]) -> String {
    ss.iter().map(|s| s.letter()).collect()
}
