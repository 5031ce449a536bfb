//! The GNU ld script parser. See `super`.
