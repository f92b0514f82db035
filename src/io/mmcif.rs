//! (in progress)
use crate::structure::Structure;

/// Parses mmCIF text.
pub fn parse(_text: &str) -> Result<Structure, String> {
    Err("mmCIF reading is not implemented yet".into())
}
