//! Model quality estimates of CR-I-TASSER (Methods, "Final model selection and
//! model quality estimation"): the global eTM-score (eq. 8–9, [`etm`]) and the
//! per-residue local PCC and local confidence (eq. 10–13, [`local`]).

pub mod etm;
pub mod local;
