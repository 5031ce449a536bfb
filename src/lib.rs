//! patchbot: a review bot for patch series on mailing lists and GitHub pull requests.
//!
//! The pipeline runs one way: source → [`mail::Message`] → [`series::Series`] →
//! (later) patched tree → outputs → findings → review → sink. Each stage is a plain
//! function over plain data; see ARCHITECTURE.md for the code map.

pub mod config;
pub mod git;
pub mod input;
pub mod mail;
pub mod output;
pub mod series;

use config::Config;
use input::{Input, InputError};
use mail::{Message, ReadOptions};

/// Read options from the configuration.
pub fn read_options(cfg: &Config) -> ReadOptions {
    ReadOptions {
        limits: cfg.limits,
        mbox_format: cfg.mail.mbox_format,
    }
}

/// mailinfo options from the configuration.
pub fn mailinfo_options(cfg: &Config) -> mail::mailinfo::Options {
    mail::mailinfo::Options {
        scissors: cfg.mail.scissors,
        ..Default::default()
    }
}

/// Read every input and assemble the series found in it. Messages that cannot be
/// read are reported in [`series::Assembled::errors`]; an input that cannot be read
/// at all is an error.
pub fn assemble(inputs: &[Input], cfg: &Config) -> Result<series::Assembled, InputError> {
    let opts = read_options(cfg);
    let mi = mailinfo_options(cfg);
    let mut asm = series::Assembler::new(cfg.limits.max_files_per_patch);
    for input in inputs {
        input.read(&opts, &mut |raw| match raw {
            Err(e) => asm.error(e),
            Ok(raw) => {
                let removed = raw.removed;
                match Message::parse(raw, &cfg.limits, mi) {
                    Ok(m) if removed => {
                        if let Some(id) = &m.message_id {
                            asm.remove(id);
                        }
                    }
                    Ok(m) => asm.add(m),
                    Err(e) => asm.error(e),
                }
            }
        })?;
    }
    Ok(asm.finish())
}
