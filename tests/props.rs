//! Property tests: the subject parser, the mbox reader, mailinfo and series
//! assembly never panic on any input, and keep their invariants.

use patchbot::mail::mbox::{is_from_line, MboxReader};
use patchbot::mail::{mailinfo, Message, Origin, RawMessage, ReadOptions};
use patchbot::series::{subject, trailers, Assembler};
use proptest::prelude::*;

fn raw(bytes: Vec<u8>) -> RawMessage {
    RawMessage {
        origin: Origin::File {
            path: "prop".into(),
        },
        bytes,
        removed: false,
    }
}

/// Bytes that look a bit like mail, so the interesting paths are reached.
fn mailish() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        Just(b"From: A <a@b.c>\n".to_vec()),
        Just(b"Subject: [PATCH v2 1/3] x\n".to_vec()),
        Just(b"Message-ID: <m@x>\n".to_vec()),
        Just(b"In-Reply-To: <m@x>\n".to_vec()),
        Just(b"References: <m@x> <n@x>\n".to_vec()),
        Just(b"Content-Type: multipart/mixed; boundary=\"b\"\n".to_vec()),
        Just(b"Content-Type: text/plain; charset=iso-8859-1; format=flowed\n".to_vec()),
        Just(b"Content-Transfer-Encoding: base64\n".to_vec()),
        Just(b"Content-Transfer-Encoding: quoted-printable\n".to_vec()),
        Just(b"--b\n".to_vec()),
        Just(b"--b--\n".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"---\n".to_vec()),
        Just(b"diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n".to_vec()),
        Just(b"Reviewed-by: R <r@x.y>\n".to_vec()),
        Just(b"-- >8 --\n".to_vec()),
        Just(b" continued\n".to_vec()),
        Just(b"=?utf-8?B?w6k=?= =?iso-8859-1?q?=E9?=\n".to_vec()),
        Just(b"From x Mon Jan  1 00:00:00 2024\n".to_vec()),
        Just(b">From x\n".to_vec()),
        proptest::collection::vec(any::<u8>(), 0..40),
    ];
    proptest::collection::vec(piece, 0..30).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(512), ..ProptestConfig::default() })]

    #[test]
    fn subject_parser_never_panics(s in "\\PC{0,200}") {
        let _ = subject::parse(&s);
    }

    #[test]
    fn subject_parser_never_panics_on_bracket_soup(s in "[\\[\\] ,/vV0-9PATCHRFCRe:a-z]{0,80}") {
        let p = subject::parse(&s);
        prop_assert!(p.version >= 1 || s.contains("v0") || s.contains("V0"));
    }

    #[test]
    fn subject_round_trips(version in 1u32..30, n in 0u32..50, extra in 0u32..50, title in "[a-z][a-z /:_-]{0,40}", rfc: bool, reply: bool) {
        let total = n.max(1) + extra;
        let counter = n.min(total);
        let s = format!("{}[{}PATCH v{version} {counter}/{total}] {title}", if reply { "Re: " } else { "" }, if rfc { "RFC " } else { "" });
        let p = subject::parse(&s);
        prop_assert_eq!(p.version, version);
        prop_assert_eq!(p.counter, Some(counter));
        prop_assert_eq!(p.total, Some(total));
        prop_assert_eq!(p.rfc, rfc);
        prop_assert_eq!(p.reply, reply);
        prop_assert_eq!(p.title, title.split_whitespace().collect::<Vec<_>>().join(" "));
    }

    #[test]
    fn mbox_reader_never_panics(bytes in mailish(), max in 1024usize..4096) {
        let mut opts = ReadOptions::default();
        opts.limits.max_message_bytes = max;
        let r = MboxReader::new(&bytes[..], "p".into(), opts);
        let mut n = 0;
        for m in r {
            n += 1;
            if let Ok(m) = m {
                prop_assert!(m.bytes.len() <= max);
            }
            prop_assert!(n <= bytes.len() + 1);
        }
    }

    #[test]
    fn mbox_reader_splits_exactly_at_from_lines(bodies in proptest::collection::vec(mailish(), 1..6)) {
        // bodies never contain an unescaped From line once we escape them (mboxrd)
        let mut mbox = Vec::new();
        let mut expect = Vec::new();
        for b in &bodies {
            mbox.extend_from_slice(b"From someone Mon Jan  1 00:00:00 2024\n");
            let mut body = Vec::new();
            for line in b.split_inclusive(|&c| c == b'\n') {
                let gt = line.iter().take_while(|&&c| c == b'>').count();
                if line[gt..].starts_with(b"From ") {
                    mbox.push(b'>');
                }
                mbox.extend_from_slice(line);
                body.extend_from_slice(line);
            }
            if !body.is_empty() && !body.ends_with(b"\n") {
                mbox.push(b'\n');
                body.push(b'\n');
            }
            expect.push(body);
        }
        let got: Vec<Vec<u8>> = MboxReader::new(&mbox[..], "p".into(), ReadOptions::default()).map(|m| m.unwrap().bytes).collect();
        prop_assert_eq!(got.len(), bodies.len());
        for (g, e) in got.iter().zip(&expect) {
            // CRLF is normalised by the reader; compare with CRs before LF removed
            let e: Vec<u8> = {
                let mut v = e.clone();
                patchbot::mail::strip_cr(&mut v);
                v
            };
            prop_assert_eq!(g, &e);
        }
    }

    #[test]
    fn from_line_detection_never_panics(line in proptest::collection::vec(any::<u8>(), 0..80)) {
        let _ = is_from_line(&line);
    }

    #[test]
    fn mailinfo_and_message_parse_never_panic(bytes in mailish()) {
        let mi = mailinfo::mailinfo(&bytes, mailinfo::Options::default());
        // the patch is a suffix of what was sent whenever no transfer encoding applies
        prop_assert!(mi.patch.len() <= bytes.len() * 2 + 16);
        let _ = mailinfo::mailinfo(&bytes, mailinfo::Options { scissors: true, ..Default::default() });
        let limits = Default::default();
        if let Ok(m) = Message::parse(raw(bytes.clone()), &limits, Default::default()) {
            let _ = trailers::find_trailers(&m.body_text(), true);
            let mut a = Assembler::new(100);
            a.add(m);
            let _ = a.finish().report();
        }
        let _ = Message::parse_lenient(raw(bytes), &limits, Default::default());
    }

    #[test]
    fn assembly_never_panics_on_arbitrary_threads(
        msgs in proptest::collection::vec((0usize..8, proptest::option::of(0usize..8), 0u32..4, 0u32..4, any::<bool>()), 0..24)
    ) {
        // messages with random ids, parents (including loops and self-replies),
        // counters and versions
        let mut a = Assembler::new(100);
        for (id, parent, counter, version, reply) in &msgs {
            let subject = format!("{}[PATCH v{} {}/3] t", if *reply { "Re: " } else { "" }, version + 1, counter);
            let mut m = format!("From: A <a@x.y>\nSubject: {subject}\nMessage-ID: <{id}@x>\n");
            if let Some(p) = parent {
                m.push_str(&format!("In-Reply-To: <{p}@x>\nReferences: <{id}@x> <{p}@x>\n"));
            }
            m.push_str("\nReviewed-by: R <r@x.y>\n");
            if let Ok(msg) = Message::parse(raw(m.into_bytes()), &Default::default(), Default::default()) {
                a.add(msg);
            }
        }
        let r = a.finish().report();
        for s in &r.series {
            prop_assert!(s.patches.windows(2).all(|w| w[0].counter < w[1].counter));
            for c in &s.missing {
                prop_assert!(!s.patches.iter().any(|p| p.counter == *c));
            }
        }
    }
}
