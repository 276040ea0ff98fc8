//! Work in progress: see the adapter being written for this sector.
