//! patchbot: a review bot for patch series on mailing lists and GitHub pull requests.
//!
//! The pipeline runs one way: source → [`mail::Message`] → [`series::Series`] →
//! (later) patched tree → outputs → findings → review → sink. Each stage is a plain
//! function over plain data; see ARCHITECTURE.md for the code map.

/// mimalloc for every binary of the crate (patchbot itself, its tests and
/// benchmarks): the preprocessor and the script parser make many small
/// allocations, and glibc's malloc spent about an eighth of their instructions
/// (callgrind, `benches/cpp.rs`).
#[global_allocator]
static GLOBAL: alloc::Mimalloc = alloc::Mimalloc;

mod alloc;

pub mod cache;
pub mod config;
pub mod diff;
pub mod digest;
pub mod git;
pub mod github;
pub mod glob;
pub mod input;
pub mod kconfig;
pub mod lds;
pub mod mail;
pub mod maintainers;
pub mod output;
pub mod post;
pub mod rebuild;
pub mod remote;
pub mod review;
pub mod rules;
pub mod series;
pub mod serve;
pub mod state;
pub mod tree;
pub mod watch;

use config::Config;
use input::{Input, InputError};
use mail::{Message, ReadOptions};

/// Read options from the configuration.
pub fn read_options(cfg: &Config) -> ReadOptions {
    ReadOptions {
        limits: cfg.limits,
        mbox_format: cfg.mail.mbox_format,
        keep_cr: cfg.mail.keep_cr,
    }
}

/// mailinfo options from the configuration.
pub fn mailinfo_options(cfg: &Config) -> mail::mailinfo::Options {
    mail::mailinfo::Options {
        scissors: cfg.mail.scissors,
        ..Default::default()
    }
}

/// What a worker makes of one message for the collector.
enum Done {
    Prepared(Box<series::Prepared>),
    Removed(Option<String>),
    Failed(mail::ReadError),
}

/// Parse a message and do its per-message work (the expensive part).
fn digest(
    raw: Result<mail::RawMessage, mail::ReadError>,
    limits: &mail::Limits,
    mi: mail::mailinfo::Options,
    max_files: usize,
) -> Done {
    match raw {
        Err(e) => Done::Failed(e),
        Ok(raw) => {
            let removed = raw.removed;
            match Message::parse(raw, limits, mi) {
                Ok(m) if removed => Done::Removed(m.message_id),
                Ok(m) => Done::Prepared(Box::new(series::Prepared::new(m, max_files))),
                Err(e) => Done::Failed(e),
            }
        }
    }
}

/// Hand a digested message to the index.
fn collect(asm: &mut series::Assembler, done: Done) {
    match done {
        Done::Prepared(p) => asm.insert(*p),
        Done::Removed(Some(id)) => asm.remove(&id),
        Done::Removed(None) => {}
        Done::Failed(e) => asm.error(e),
    }
}

/// Read every input and assemble the series found in it. Messages that cannot be
/// read are reported in [`series::Assembled::errors`]; an input that cannot be read
/// at all is an error.
///
/// Reading is a pipeline: this thread reads and splits messages, worker threads
/// parse them ([`series::Prepared::new`], the expensive part), and a collector
/// indexes them in arrival order, so the result does not depend on the number
/// of threads. Channels are bounded: a few hundred messages are in flight at most.
pub fn assemble(inputs: &[Input], cfg: &Config) -> Result<series::Assembled, InputError> {
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 8);
    assemble_with_workers(inputs, cfg, workers)
}

/// [`assemble`] with a given number of parsing threads (1: no threads at all).
/// The result is the same for every number.
pub fn assemble_with_workers(
    inputs: &[Input],
    cfg: &Config,
    workers: usize,
) -> Result<series::Assembled, InputError> {
    assemble_stream(cfg, workers, &mut |opts, f| {
        for input in inputs {
            input.read(opts, f)?;
        }
        Ok(())
    })
}

/// What hands messages to [`assemble_stream`]: it calls its second argument
/// once per message, in order.
pub type MessageStream<'a> = dyn FnMut(
        &ReadOptions,
        &mut dyn FnMut(Result<mail::RawMessage, mail::ReadError>),
    ) -> Result<(), InputError>
    + 'a;

/// [`assemble_with_workers`] over any stream of messages (`patchbot watch`
/// reads its own from the state store).
pub fn assemble_stream(
    cfg: &Config,
    workers: usize,
    read: &mut MessageStream,
) -> Result<series::Assembled, InputError> {
    use std::sync::mpsc::sync_channel;

    let opts = read_options(cfg);
    let mi = mailinfo_options(cfg);
    let limits = cfg.limits;
    let max_files = cfg.limits.max_files_per_patch;
    if workers <= 1 {
        // one core: threads would only add hand-offs
        let mut asm = series::Assembler::new(max_files);
        read(&opts, &mut |raw| {
            collect(&mut asm, digest(raw, &limits, mi, max_files))
        })?;
        return Ok(asm.finish());
    }
    // Messages travel in batches, so threads hand off a few times per batch
    // instead of once per message.
    const BATCH: usize = 32;
    type Job = Result<mail::RawMessage, mail::ReadError>;
    std::thread::scope(|scope| {
        let mut ins = Vec::with_capacity(workers);
        let mut outs = Vec::with_capacity(workers);
        for _ in 0..workers {
            let (itx, irx) = sync_channel::<Vec<Job>>(2);
            let (otx, orx) = sync_channel::<Vec<Done>>(2);
            scope.spawn(move || {
                for batch in irx {
                    let done: Vec<Done> = batch
                        .into_iter()
                        .map(|job| digest(job, &limits, mi, max_files))
                        .collect();
                    if otx.send(done).is_err() {
                        break;
                    }
                }
            });
            ins.push(itx);
            outs.push(orx);
        }
        let collector = scope.spawn(move || {
            let mut asm = series::Assembler::new(max_files);
            let mut i = 0usize;
            // batches come back round-robin, in the order the messages were read
            while let Ok(batch) = outs[i % outs.len()].recv() {
                for done in batch {
                    collect(&mut asm, done);
                }
                i += 1;
            }
            asm
        });
        let mut seq = 0usize;
        let mut batch: Vec<Job> = Vec::with_capacity(BATCH);
        let result = read(&opts, &mut |raw| {
            batch.push(raw);
            if batch.len() == BATCH {
                // a send fails only if a worker died; the collector then stops early
                let _ = ins[seq % ins.len()]
                    .send(std::mem::replace(&mut batch, Vec::with_capacity(BATCH)));
                seq += 1;
            }
        });
        if !batch.is_empty() {
            let _ = ins[seq % ins.len()].send(batch);
        }
        drop(ins);
        let asm = collector
            .join()
            .expect("the collector thread does not panic");
        result.map(|()| asm.finish())
    })
}

/// The patches of `series` with their bytes, read again from the inputs (the
/// series index keeps no bodies): for `apply`.
pub fn patch_inputs(
    inputs: &[Input],
    cfg: &Config,
    series: &series::Series,
) -> Result<Vec<tree::apply::PatchInput>, InputError> {
    let opts = read_options(cfg);
    let mi = mailinfo_options(cfg);
    let wanted: Vec<&mail::Origin> = series.patches.iter().map(|p| &p.origin).collect();
    let mut found: Vec<Option<Message>> = vec![None; wanted.len()];
    for input in inputs {
        input.read(&opts, &mut |raw| {
            let Ok(raw) = raw else { return };
            let Some(i) = wanted.iter().position(|o| **o == raw.origin) else {
                return;
            };
            if found[i].is_none() {
                found[i] = Message::parse(raw, &cfg.limits, mi).ok();
            }
        })?;
    }
    let lossy = |b: &Option<Vec<u8>>| {
        b.as_deref()
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .unwrap_or_default()
    };
    Ok(series
        .patches
        .iter()
        .zip(found)
        .map(|(p, m)| {
            let m = m.as_ref();
            tree::apply::PatchInput {
                counter: p.counter,
                subject: m
                    .map(|m| lossy(&m.info.subject))
                    .unwrap_or_else(|| p.subject.to_string()),
                message_id: p.message_id.as_deref().map(String::from),
                patch: m.map(|m| m.info.patch.clone()).unwrap_or_default(),
                author: m.map(|m| lossy(&m.info.author)).unwrap_or_default(),
                email: m.map(|m| lossy(&m.info.email)).unwrap_or_default(),
                date: m.map(|m| lossy(&m.info.date)).unwrap_or_default(),
                message: m
                    .map(|m| String::from_utf8_lossy(&m.info.message).into_owned())
                    .unwrap_or_default(),
            }
        })
        .collect())
}

/// Make ring rustls's crypto provider for HTTP clients that take the
/// process-wide one (reqwest without a provider of its own). Idempotent.
pub fn install_crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
