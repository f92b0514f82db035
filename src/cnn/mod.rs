//! The Cα-detection network (in progress).
