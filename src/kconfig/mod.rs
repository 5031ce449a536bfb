//! Kconfig: the language, parsed and (later) evaluated per architecture, without
//! running anything.
//!
//! * [`macros`]: the macro language; `$(shell,...)` and the probe macros are
//!   answered by a [`macros::Toolchain`], never run.
//! * [`parse`]: lexer and parser into [`parse::Node`]s with locations, reading
//!   files only through the confined [`crate::tree::vfs::Vfs`].
//!
//! * [`eval`]: `conf` semantics and the `.config`/`autoconf.h` writers.
//!
//! The toolchain tables, the tree profiles and the `kconfig` command are still to
//! come (issue 4).

pub mod eval;
pub mod macros;
pub mod parse;
