//! `patchbot series` on the thread fixtures: grouping, versions, missing and
//! duplicate parts, partial re-rolls, threading fallbacks and trailer collection
//! by b4's rules. Expected outcomes are listed in tests/fixtures/README.md.

mod common;

use common::{fixture, patchbot, series_json};
use serde_json::Value;

/// `name <user@domain>` without writing an address literally.
fn who(name: &str, user: &str, domain: &str) -> String {
    format!("{name} <{user}{}{domain}>", '@')
}

fn series(v: &Value) -> &Vec<Value> {
    v["series"].as_array().unwrap()
}

/// The trailers on a patch, as "Name: value[ extinfo] (source)".
fn trailers(p: &Value) -> Vec<String> {
    p["trailers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            let ext = t["extinfo"]
                .as_str()
                .map(|e| format!(" {e}"))
                .unwrap_or_default();
            format!(
                "{}: {}{} ({})",
                t["name"].as_str().unwrap(),
                t["value"].as_str().unwrap(),
                ext,
                t["source"].as_str().unwrap()
            )
        })
        .collect()
}

fn followups(p: &Value) -> Vec<String> {
    trailers(p)
        .into_iter()
        .filter(|t| !t.ends_with("(patch)"))
        .collect()
}

fn counters(s: &Value) -> Vec<u64> {
    s["patches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["counter"].as_u64().unwrap())
        .collect()
}

fn u64s(v: &Value) -> Vec<u64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap())
        .collect()
}

#[test]
fn v4_series_with_cover_collects_trailers_by_b4_rules() {
    let (v, code) = series_json(&[&fixture("threads/v4-with-cover.mbox")]);
    assert_eq!(code, 0);
    let all = series(&v);
    assert_eq!(all.len(), 1);
    let s = &all[0];
    assert_eq!(s["version"], 4);
    assert_eq!(
        s["title"],
        "xen: enforce a minimum function alignment for livepatch"
    );
    assert_eq!(s["author"]["name"], "Rosa Pérez Molina");
    assert_eq!(s["cover"]["is_cover_letter"], true);
    assert_eq!(s["base_commit"], "4c08af88e0625a311a3d04a44e0af038f81e7424");
    assert_eq!(s["change_id"], "20231127-function-alignment-5b1d2e8f9a0c");
    assert_eq!(counters(s), vec![1, 2, 3, 4]);
    assert!(s["missing"].as_array().unwrap().is_empty());
    let jane = format!(
        "Acked-by: {} # x86 (cover-reply)",
        who("Jane Maintainer", "jane", "example.org")
    );
    let p = s["patches"].as_array().unwrap();
    assert_eq!(followups(&p[0]), vec![jane.clone()]);
    assert_eq!(
        followups(&p[1]),
        vec![
            format!(
                "Reviewed-by: {} (reply)",
                who("Daniel Okafor", "daniel.okafor", "example.com")
            ),
            jane.clone()
        ]
    );
    assert_eq!(followups(&p[2]), vec![jane.clone()]);
    assert_eq!(
        followups(&p[3]),
        vec![
            format!(
                "Tested-by: {} (reply)",
                who("Mei Lin", "mei.lin", "example.com")
            ),
            jane.clone()
        ]
    );
    // own trailers: 3/4 carries an arm-scoped ack
    assert!(trailers(&p[2]).contains(&format!(
        "Acked-by: {} # arm (patch)",
        who("Priya Raman", "priya.raman", "example.com")
    )));
    // quoted trailers and link trailers with URLs never count
    let collected: Vec<String> = p.iter().flat_map(trailers).collect();
    assert!(
        !collected.iter().any(|t| t.contains("Kenji Watanabe")),
        "a quoted Reviewed-by was collected: {collected:?}"
    );
    assert!(
        !collected.iter().any(|t| t.starts_with("Link:")),
        "a Link: with a URL was collected: {collected:?}"
    );
    // and the replies they were in are still listed
    assert!(p[0]["replies"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["from"]["name"] == "Kenji Watanabe"));
    // files touched
    assert!(
        p[1]["files"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f == "xen/arch/x86/xen.lds.S"),
        "{}",
        p[1]["files"]
    );
}

#[test]
fn deep_threading_attaches_replies_to_the_nearest_patch() {
    let (v, _) = series_json(&[&fixture("threads/deep-threaded.mbox")]);
    let s = &series(&v)[0];
    assert_eq!(series(&v).len(), 1);
    assert_eq!(
        (s["version"].as_u64(), counters(s)),
        (Some(2), vec![1, 2, 3])
    );
    assert_eq!(
        s["prerequisite_patch_ids"][0],
        "6f1c2d9e8b7a4c3d2e1f0a9b8c7d6e5f4a3b2c1d"
    );
    let p = s["patches"].as_array().unwrap();
    assert_eq!(
        followups(&p[0]),
        vec![format!(
            "Reviewed-by: {} (reply)",
            who("Wei Zhang", "wei.zhang", "example.com")
        )]
    );
    assert!(followups(&p[1]).is_empty());
    assert_eq!(
        followups(&p[2]),
        vec![format!(
            "Reviewed-by: {} (reply)",
            who("Jane Maintainer", "jane", "example.org")
        )]
    );
}

#[test]
fn series_without_cover_uses_the_thread_root() {
    let (v, _) = series_json(&[&fixture("threads/no-cover.mbox")]);
    assert_eq!(series(&v).len(), 1);
    let s = &series(&v)[0];
    assert_eq!(s["cover"]["is_cover_letter"], false);
    assert_eq!(s["cover"]["message_id"], s["patches"][0]["message_id"]);
    assert_eq!(counters(s), vec![1, 2, 3]);
    let p = s["patches"].as_array().unwrap();
    // a reply to 1/3 applies to 1/3 only: 1/3 is not a cover letter
    assert_eq!(
        followups(&p[0]),
        vec![format!(
            "Acked-by: {} (reply)",
            who("Pavel Horak", "pavel.horak", "example.org")
        )]
    );
    assert!(followups(&p[1]).is_empty());
}

#[test]
fn missing_and_duplicate_parts_are_reported() {
    let (v, _) = series_json(&[&fixture("threads/missing-and-duplicate.mbox")]);
    let s = &series(&v)[0];
    assert_eq!(s["total"], 5);
    assert_eq!(counters(s), vec![1, 2, 4, 5]);
    assert_eq!(u64s(&s["missing"]), vec![3]);
    assert_eq!(s["duplicates"][0]["counter"], 2);
    assert_eq!(
        s["duplicates"][0]["message_ids"][0],
        "20240206152300.5533-1-tobias.lindqvist@example.com"
    );
    // the review sent to the second copy lands on 2/5
    assert_eq!(
        followups(&s["patches"][1]),
        vec![format!(
            "Reviewed-by: {} (reply)",
            who("Jane Maintainer", "jane", "example.org")
        )]
    );
}

#[test]
fn partial_reroll_carries_patches_from_the_earlier_version() {
    let (v, _) = series_json(&[&fixture("threads/partial-reroll.mbox")]);
    let all = series(&v);
    assert_eq!(all.len(), 2);
    let (v1, v2) = (&all[0], &all[1]);
    assert_eq!(
        (v1["version"].as_u64(), v2["version"].as_u64()),
        (Some(1), Some(2))
    );
    assert_eq!(v1["partial_reroll"], false);
    assert_eq!(v2["partial_reroll"], true);
    assert_eq!(counters(v2), vec![1, 2, 3, 4]);
    let from: Vec<Option<u64>> = v2["patches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["from_version"].as_u64())
        .collect();
    assert_eq!(from, vec![Some(1), None, Some(1), Some(1)]);
    assert_eq!(v2["title"], v1["title"]);
    assert_eq!(v2["other_versions"][0]["version"], 1);
    assert_eq!(v1["other_versions"][0]["version"], 2);
    assert_eq!(
        followups(&v2["patches"][1]),
        vec![format!(
            "Reviewed-by: {} (reply)",
            who("Jane Maintainer", "jane", "example.org")
        )]
    );
}

#[test]
fn versions_are_linked_by_change_id() {
    let (v, _) = series_json(&[&fixture("threads/two-versions.mbox")]);
    let all = series(&v);
    assert_eq!(all.len(), 2);
    assert_eq!(all[0]["version"], 1);
    assert_eq!(all[1]["version"], 2);
    assert_eq!(
        all[0]["other_versions"][0]["message_id"],
        all[1]["cover"]["message_id"]
    );
    assert_eq!(
        all[1]["other_versions"][0]["message_id"],
        all[0]["cover"]["message_id"]
    );
    // the v2 cover-letter ack applies to both v2 patches, not to v1
    let ack = format!(
        "Acked-by: {} (cover-reply)",
        who("Jane Maintainer", "jane", "example.org")
    );
    for p in all[1]["patches"].as_array().unwrap() {
        assert!(followups(p).contains(&ack), "{p}");
    }
    for p in all[0]["patches"].as_array().unwrap() {
        assert!(!followups(p).contains(&ack), "{p}");
    }
}

#[test]
fn unthreaded_format_patch_output_is_grouped_by_author_and_counter() {
    let (v, _) = series_json(&[&fixture("threads/unthreaded.mbox")]);
    let all = series(&v);
    assert_eq!(all.len(), 2, "{v}");
    assert_eq!(counters(&all[0]), vec![1, 2, 3]);
    assert_eq!(all[0]["author"]["name"], "Yusuf Demir");
    assert!(all[0]["patches"][0]["message_id"].is_null());
    assert_eq!(all[1]["total"], 1);
    assert_eq!(all[1]["author"]["name"], "Greta Holm");
}

#[test]
fn shuffled_order_and_quilt_patches() {
    let (v, _) = series_json(&[&fixture("threads/quilt-and-mixed.mbox")]);
    let all = series(&v);
    assert_eq!(all.len(), 2);
    let quilt = all
        .iter()
        .find(|s| s["author"]["name"] == "Nikolai Petrov")
        .expect("quilt series");
    assert_eq!(quilt["patches"][0]["files"][0], "xen/common/keyhandler.c");
    assert_eq!(
        followups(&quilt["patches"][0]),
        vec![
            format!(
                "Reviewed-by: {} (reply)",
                who("Jane Maintainer", "jane", "example.org")
            ),
            format!(
                "Tested-by: {} (reply)",
                who("Mei Lin", "mei.lin", "example.com")
            ),
        ]
    );
}

#[test]
fn reference_loops_terminate_with_a_warning() {
    let (v, code) = series_json(&[&fixture("threads/references-loop.mbox")]);
    assert_eq!(code, 0);
    assert_eq!(series(&v).len(), 1);
    assert!(followups(&series(&v)[0]["patches"][0]).is_empty());
    let w = v["warnings"].as_array().unwrap();
    assert!(
        w.iter()
            .any(|w| w["warning"].as_str().unwrap().contains("loop")),
        "{v}"
    );
}

#[test]
fn several_inputs_are_threaded_together() {
    // two threads read together: 11 + 6 messages, two series
    let (v, _) = series_json(&[
        &fixture("threads/v4-with-cover.mbox"),
        &fixture("threads/deep-threaded.mbox"),
    ]);
    assert_eq!(series(&v).len(), 2);
    assert_eq!(v["messages"], 17);
}

#[test]
fn text_output_names_the_series_and_its_parts() {
    let out = patchbot()
        .arg("series")
        .arg(fixture("threads/missing-and-duplicate.mbox"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("Series v1: tools/xl: report pause/unpause failures (4 of 5 patches)"),
        "{text}"
    );
    assert!(text.contains("missing: 3"), "{text}");
    assert!(text.contains("duplicate 2/5"), "{text}");
}

#[test]
fn bundled_example_reads() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let (v, code) = series_json(&[&root.join("examples/xen-function-alignment.mbox")]);
    assert_eq!(code, 0);
    let s = &series(&v)[0];
    assert_eq!(s["version"], 4);
    assert_eq!(counters(s), vec![1, 2, 3, 4]);
    assert_eq!(
        followups(&s["patches"][0]),
        vec![format!(
            "Acked-by: {} # x86 (reply)",
            who("Jane Maintainer", "jane", "example.org")
        )]
    );
}

#[test]
fn the_result_does_not_depend_on_the_number_of_threads() {
    use patchbot::input::Input;
    let cfg = patchbot::config::Config::builtin();
    let mut inputs = Vec::new();
    for dir in ["threads", "mail", "bad"] {
        let mut files: Vec<_> = std::fs::read_dir(fixture(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        for f in files
            .into_iter()
            .filter(|f| f.extension().is_some_and(|e| e != "py"))
        {
            inputs.push(Input::File(f));
        }
    }
    let one = serde_json::to_value(
        patchbot::assemble_with_workers(&inputs, &cfg, 1)
            .unwrap()
            .report(),
    )
    .unwrap();
    for n in [2, 3, 5] {
        let many = serde_json::to_value(
            patchbot::assemble_with_workers(&inputs, &cfg, n)
                .unwrap()
                .report(),
        )
        .unwrap();
        assert_eq!(one, many, "{n} workers");
    }
    assert!(one["series"].as_array().unwrap().len() > 20);
}

/// Messages of an mbox as (From line, rest) pairs.
fn mbox_messages(path: &std::path::Path) -> Vec<Vec<u8>> {
    let data = std::fs::read(path).unwrap();
    let mut out: Vec<Vec<u8>> = Vec::new();
    for line in data.split_inclusive(|&c| c == b'\n') {
        if patchbot::mail::mbox::is_from_line(line) {
            out.push(Vec::new());
        }
        if let Some(m) = out.last_mut() {
            m.extend_from_slice(line);
        }
    }
    out
}

#[test]
fn patches_whose_cover_letter_is_not_in_the_input_stay_one_series() {
    // as on a list that only got some patches of a series (the cover went elsewhere)
    let msgs = mbox_messages(&fixture("threads/v4-with-cover.mbox"));
    let without_cover: Vec<u8> = msgs
        .iter()
        .filter(|m| {
            !String::from_utf8_lossy(m).contains("[PATCH v4 0/4]")
                || String::from_utf8_lossy(m).contains("Subject: Re:")
        })
        .flatten()
        .copied()
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("no-cover-here.mbox");
    std::fs::write(&f, without_cover).unwrap();
    let (v, _) = series_json(&[&f]);
    let all = series(&v);
    assert_eq!(all.len(), 1, "{v}");
    assert_eq!(counters(&all[0]), vec![1, 2, 3, 4]);
    assert_eq!(all[0]["cover"]["is_cover_letter"], false);
}

#[test]
fn same_title_from_different_authors_is_not_another_version() {
    let dir = tempfile::tempdir().unwrap();
    let mail = |who: &str, id: &str, v: u32| {
        format!(
            "From {who} Mon Jan  1 00:00:00 2024\nFrom: {who} <{who}{}example.org>\nSubject: [PATCH v{v}] xen: fix the build\nMessage-ID: <{id}{}example.org>\nDate: Mon, 1 Jan 2024 00:00:0{v} +0000\n\nFix it.\n\nSigned-off-by: {who} <{who}{}example.org>\n---\ndiff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n",
            '@', '@', '@'
        )
    };
    let f = dir.path().join("m.mbox");
    std::fs::write(
        &f,
        [
            mail("ann", "a1", 1),
            mail("ann", "a2", 2),
            mail("bob", "b1", 3),
        ]
        .concat(),
    )
    .unwrap();
    let (v, _) = series_json(&[&f]);
    let all = series(&v);
    assert_eq!(all.len(), 3);
    let ann2 = all.iter().find(|s| s["version"] == 2).unwrap();
    let linked: Vec<u64> = ann2["other_versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["version"].as_u64().unwrap())
        .collect();
    assert_eq!(
        linked,
        vec![1],
        "only ann's v1, not bob's patch with the same title"
    );
    let bob = all.iter().find(|s| s["author"]["name"] == "bob").unwrap();
    assert!(bob["other_versions"].as_array().unwrap().is_empty());
}

#[test]
fn a_message_in_two_inputs_counts_once() {
    // the example shares its cover letter and four patches (same Message-IDs)
    // with the v4 thread, and adds replies of its own
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let example = root.join("examples/xen-function-alignment.mbox");
    let (both, _) = series_json(&[&fixture("threads/v4-with-cover.mbox"), &example]);
    let (alone, _) = series_json(&[&fixture("threads/v4-with-cover.mbox")]);
    assert_eq!(series(&both).len(), 1, "one series, not two copies");
    assert_eq!(counters(&series(&both)[0]), vec![1, 2, 3, 4]);
    assert!(series(&both)[0]["duplicates"]
        .as_array()
        .unwrap()
        .is_empty());
    // as many messages as distinct Message-IDs in the two files
    let ids = |p: &std::path::Path| -> std::collections::BTreeSet<String> {
        std::fs::read_to_string(p)
            .unwrap()
            .lines()
            .filter(|l| l.to_ascii_lowercase().starts_with("message-id:"))
            .map(|l| l[11..].trim().to_string())
            .collect()
    };
    let a = ids(&fixture("threads/v4-with-cover.mbox"));
    let b = ids(&example);
    assert!(
        a.intersection(&b).count() >= 5,
        "the files share the series"
    );
    assert_eq!(alone["messages"].as_u64(), Some(a.len() as u64));
    assert_eq!(both["messages"].as_u64(), Some(a.union(&b).count() as u64));
}
