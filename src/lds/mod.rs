//! Linker scripts: the C preprocessor (assembler-with-cpp mode, with provenance
//! for every output token) and the GNU ld script parser. Issue 5.
//!
//! * `cpp`: `xen.lds.S` and its headers, read only through a [`crate::tree::vfs::Vfs`],
//!   preprocessed as `gcc -E -P -x assembler-with-cpp` would.
//! * `script`: the preprocessed text parsed into output sections and statements,
//!   each with its byte span in that text (mapped back to source lines through
//!   `cpp`'s provenance).

pub mod cpp;
pub mod script;
