//! Decoy clustering: SPICKER (Zhang & Skolnick, J Comput Chem 2004), the model
//! selection step of CR-I-TASSER ("Final model selection", Methods). The
//! Monte Carlo decoys of the low-temperature replicas are clustered by pairwise
//! Cα RMSD; the cluster centroids are the candidate models, and the cluster
//! sizes and spreads feed the confidence of eq. 9 ([`crate::quality::etm`]).

pub mod spicker;

pub use spicker::{spicker, Cluster, ClusterError, Clustering, RmsdMatrix, SpickerParams};
