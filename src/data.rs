//! Where the big shared data sets live (`../shared/data`: structures, maps,
//! reference values). Users will not have them; tests and tools that need them
//! call [`shared_data_dir`] and say clearly when the data are absent.

use std::path::PathBuf;

/// `$MAPFOLD_DATA` if set, else `../shared/data` beside the working directory or
/// beside the crate's source tree; `None` when none of these exists.
pub fn shared_data_dir() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("MAPFOLD_DATA") {
        let p = PathBuf::from(p);
        return p.is_dir().then_some(p);
    }
    let candidates = [
        PathBuf::from("../shared/data"),
        PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data")),
    ];
    candidates.into_iter().find(|p| p.is_dir())
}

/// For tests that need the shared data: the directory, or `None` after printing
/// why the test does nothing. With `MAPFOLD_REQUIRE_DATA=1` (set in CI) a missing
/// directory is a failure instead, so that CI can never pass by skipping.
pub fn shared_data_for_test(test: &str) -> Option<PathBuf> {
    match shared_data_dir() {
        Some(p) => Some(p),
        None => {
            let msg = format!(
                "{test}: ../shared/data not found (set MAPFOLD_DATA to its path); this test needs it"
            );
            if std::env::var("MAPFOLD_REQUIRE_DATA").is_ok_and(|v| v == "1") {
                panic!("{msg}");
            }
            eprintln!("SKIPPED {msg}");
            None
        }
    }
}
