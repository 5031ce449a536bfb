//! Text and JSON renderings of what the commands print. JSON shapes are part of
//! the interface (documented in README.md); text is for people.

use std::fmt::Write as _;
use std::io;

use serde_json::{json, Value};

use crate::mail::Message;
use crate::series::{Assembled, Series};

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn opt_lossy(b: &Option<Vec<u8>>) -> Value {
    b.as_deref()
        .map_or(Value::Null, |b| Value::String(lossy(b)))
}

/// `patchbot mail --json`: the `git mailinfo` fields plus threading headers.
/// `message`/`patch` are strings when valid UTF-8, else `message_base64`/`patch_base64`.
pub fn mail_json(m: &Message) -> Value {
    let mut v = json!({
        "author": opt_lossy(&m.info.author),
        "email": opt_lossy(&m.info.email),
        "subject": opt_lossy(&m.info.subject),
        "date": opt_lossy(&m.info.date),
        "message_id": m.message_id,
        "in_reply_to": m.in_reply_to,
        "references": m.references,
    });
    let obj = v.as_object_mut().expect("object");
    for (key, bytes) in [("message", &m.info.message), ("patch", &m.info.patch)] {
        match std::str::from_utf8(bytes) {
            Ok(s) => {
                obj.insert(key.into(), Value::String(s.into()));
            }
            Err(_) => {
                obj.insert(
                    format!("{key}_base64"),
                    Value::String(data_encoding::BASE64.encode(bytes)),
                );
            }
        }
    }
    obj.insert("warnings".into(), json!(m.notes));
    v
}

/// `patchbot mail` in text: the info block as git prints it, then message and patch.
pub fn mail_text(m: &Message) -> String {
    let mut s = String::new();
    let i = &m.info;
    if let (Some(a), Some(e)) = (&i.author, &i.email) {
        let _ = writeln!(s, "Author: {}\nEmail: {}", lossy(a), lossy(e));
    }
    if let Some(x) = &i.subject {
        let _ = writeln!(s, "Subject: {}", lossy(x));
    }
    if let Some(x) = &i.date {
        let _ = writeln!(s, "Date: {}", lossy(x));
    }
    if let Some(id) = &m.message_id {
        let _ = writeln!(s, "Message-ID: <{id}>");
    }
    if let Some(id) = &m.in_reply_to {
        let _ = writeln!(s, "In-Reply-To: <{id}>");
    }
    for w in &m.notes {
        let _ = writeln!(s, "Warning: {w}");
    }
    let _ = writeln!(s, "\n--- message ---\n{}", lossy(&i.message).trim_end());
    if !i.patch.is_empty() {
        let _ = writeln!(s, "\n--- patch ---\n{}", lossy(&i.patch).trim_end());
    }
    s
}

/// `1, 3-5, 9` for a sorted list of numbers.
pub fn ranges(nums: &[u32]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < nums.len() {
        let mut j = i;
        while j + 1 < nums.len() && nums[j + 1] == nums[j] + 1 {
            j += 1;
        }
        parts.push(if j > i {
            format!("{}-{}", nums[i], nums[j])
        } else {
            nums[i].to_string()
        });
        i = j + 1;
    }
    parts.join(", ")
}

fn series_header(s: &Series) -> String {
    let mut flags = Vec::new();
    if s.rfc {
        flags.push("RFC".to_string());
    }
    if s.resend {
        flags.push("RESEND".to_string());
    }
    flags.extend(s.tags.iter().map(|t| t.to_string()));
    let flags = if flags.is_empty() {
        String::new()
    } else {
        format!(" [{}]", flags.join(" "))
    };
    let n = s.patches.len();
    format!(
        "Series v{}{}: {} ({} of {} patch{})",
        s.version,
        flags,
        s.title,
        n,
        s.total,
        if s.total == 1 { "" } else { "es" }
    )
}

/// `patchbot series` in text, written one series at a time.
pub fn write_series_text(w: &mut dyn io::Write, r: &Assembled) -> io::Result<()> {
    let mut count = 0;
    for s in r.series() {
        let s = &s;
        count += 1;
        let mut out = String::new();
        let _ = writeln!(out, "{}", series_header(s));
        if let Some(a) = &s.author {
            let _ = writeln!(out, "  author:  {a}");
        }
        if let Some(d) = &s.date {
            let _ = writeln!(out, "  date:    {d}");
        }
        if let Some(c) = &s.cover {
            let what = if c.is_cover_letter { "cover" } else { "root" };
            let _ = writeln!(
                out,
                "  {what}:   <{}>",
                c.message_id.as_deref().unwrap_or("no Message-ID")
            );
        }
        if let Some(b) = &s.base.base_commit {
            let _ = writeln!(out, "  base-commit: {b}");
        }
        if let Some(c) = &s.base.change_id {
            let _ = writeln!(out, "  change-id: {c}");
        }
        for p in &s.base.prerequisite_patch_ids {
            let _ = writeln!(out, "  prerequisite-patch-id: {p}");
        }
        if s.partial_reroll {
            let _ = writeln!(
                out,
                "  partial re-roll: patches not re-sent are carried from the earlier version"
            );
        }
        for p in &s.patches {
            let carried = p
                .from_version
                .map(|v| format!(" (from v{v})"))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "  [{}/{}] {}{}  <{}>",
                p.counter,
                s.total,
                p.subject,
                carried,
                p.message_id.as_deref().unwrap_or("no Message-ID")
            );
            if !p.files.is_empty() {
                let _ = writeln!(out, "        files: {}", p.files.join(", "));
            }
            for t in &p.trailers {
                let ext = t
                    .trailer
                    .extinfo
                    .as_deref()
                    .map(|e| format!(" {e}"))
                    .unwrap_or_default();
                let src = match t.source {
                    "patch" => String::new(),
                    other => format!(
                        "  ({other}{})",
                        t.message_id
                            .as_deref()
                            .map(|m| format!(" <{m}>"))
                            .unwrap_or_default()
                    ),
                };
                let _ = writeln!(
                    out,
                    "        {}: {}{}{}",
                    t.trailer.name, t.trailer.value, ext, src
                );
            }
            if !p.replies.is_empty() {
                let _ = writeln!(out, "        replies: {}", p.replies.len());
            }
        }
        if !s.missing.is_empty() {
            let _ = writeln!(out, "  missing: {}", ranges(&s.missing));
        }
        for d in &s.duplicates {
            let ids: Vec<String> = d
                .message_ids
                .iter()
                .map(|m| format!("<{}>", m.as_deref().unwrap_or("no Message-ID")))
                .collect();
            let _ = writeln!(
                out,
                "  duplicate {}/{}: {}",
                d.counter,
                s.total,
                ids.join(", ")
            );
        }
        if !s.replies.is_empty() {
            let _ = writeln!(out, "  replies to the cover: {}", s.replies.len());
        }
        for v in &s.other_versions {
            let _ = writeln!(
                out,
                "  other version: v{} <{}>",
                v.version,
                v.message_id.as_deref().unwrap_or("?")
            );
        }
        out.push('\n');
        w.write_all(out.as_bytes())?;
    }
    let mut out = String::new();
    let _ = writeln!(out, "{count} series in {} messages", r.messages);
    for e in &r.errors {
        let _ = writeln!(out, "error: {e}");
    }
    for w in &r.warnings {
        let _ = writeln!(out, "warning: {}: {}", w.origin, w.warning);
    }
    w.write_all(out.as_bytes())
}

/// `patchbot series --json`: `{"series": [...], "errors": [...], "warnings": [...],
/// "messages": N}`, one series per line, written as each is built.
pub fn write_series_json(w: &mut dyn io::Write, r: &Assembled) -> io::Result<()> {
    w.write_all(b"{\"series\": [")?;
    for (i, s) in r.series().enumerate() {
        w.write_all(if i == 0 { b"\n" } else { b",\n" })?;
        serde_json::to_writer(&mut *w, &s)?;
    }
    w.write_all(b"\n],\n\"errors\": ")?;
    serde_json::to_writer(&mut *w, &r.errors)?;
    w.write_all(b",\n\"warnings\": ")?;
    serde_json::to_writer(&mut *w, &r.warnings)?;
    writeln!(w, ",\n\"messages\": {}}}", r.messages)
}

/// `patchbot apply --json`.
pub fn apply_json(
    s: &Series,
    base: &crate::tree::base::Base,
    a: &crate::tree::apply::Applied,
) -> Value {
    json!({
        "series": {
            "title": s.title,
            "version": s.version,
            "message_id": s.cover.as_ref().and_then(|c| c.message_id.clone()),
        },
        "base": base,
        "patches": a.patches,
        "missing": s.missing,
        "tree": a.tree,
        "files": a.files,
        "commits": a.commits,
    })
}

/// `patchbot apply` in text.
pub fn apply_text(
    s: &Series,
    base: &crate::tree::base::Base,
    a: &crate::tree::apply::Applied,
) -> String {
    use crate::tree::apply::Outcome;
    let mut out = String::new();
    let _ = writeln!(out, "{}", series_header(s));
    let rung = serde_json::to_value(base.rung)
        .ok()
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "base: {} ({rung}: {})",
        base.commit,
        base.why.join("; ")
    );
    for p in &a.patches {
        let what = match &p.outcome {
            Outcome::Applied => "applied".to_string(),
            Outcome::AppliedWithOffset { offsets } => {
                let o: Vec<String> = offsets
                    .iter()
                    .map(|o| format!("hunk {} at line {} ({:+})", o.hunk, o.line, o.offset))
                    .collect();
                format!("applied with offset: {}", o.join(", "))
            }
            Outcome::Applied3Way => "applied with a 3-way merge".to_string(),
            Outcome::AlreadyApplied => "already applied (the change is in the base)".to_string(),
            Outcome::Conflict { at } => {
                let o: Vec<String> = at
                    .iter()
                    .map(|p| match p.line {
                        Some(l) => format!("{} line {}: {}", p.file, l, p.reason),
                        None => format!("{}: {}", p.file, p.reason),
                    })
                    .collect();
                format!("conflict: {}", o.join("; "))
            }
            Outcome::Malformed { reason } => format!("malformed: {reason}"),
            Outcome::Refused { reason } => format!("refused: {reason}"),
            Outcome::NotAttempted => "not attempted (an earlier patch did not apply)".to_string(),
        };
        let _ = writeln!(
            out,
            "  [{}/{}] {}\n        {}",
            p.counter, s.total, p.subject, what
        );
    }
    if !s.missing.is_empty() {
        let _ = writeln!(
            out,
            "missing: {} (not in the input; applied without them)",
            ranges(&s.missing)
        );
    }
    match &a.tree {
        Some(t) => {
            let _ = writeln!(out, "tree: {t}");
            for f in &a.files {
                match &f.old_path {
                    Some(o) => {
                        let _ = writeln!(out, "  {} {} -> {}", f.status, o, f.path);
                    }
                    None => {
                        let _ = writeln!(out, "  {} {}", f.status, f.path);
                    }
                }
            }
            for c in &a.commits {
                let _ = writeln!(out, "commit: {c}");
            }
        }
        None => {
            let _ = writeln!(out, "the series does not apply");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn ranges() {
        assert_eq!(super::ranges(&[1, 2, 3, 5, 7, 8]), "1-3, 5, 7-8");
        assert_eq!(super::ranges(&[4]), "4");
        assert_eq!(super::ranges(&[]), "");
    }
}
