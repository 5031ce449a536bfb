//! GitHub pull requests: `patchbot review github:OWNER/REPO#N --post` against
//! a local server speaking GitHub's REST API (wiremock): the calls made, in
//! order and with their bodies — the check run, the inline review on diff
//! lines, the summary comment edited in place on a new push — and the
//! 50-annotation batching.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

struct Fake {
    rt: tokio::runtime::Runtime,
    server: MockServer,
}

impl Fake {
    fn start() -> Fake {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let server = rt.block_on(MockServer::start());
        Fake { rt, server }
    }

    fn on(&self, verb: &str, route: &str, status: u16, body: Value) {
        self.rt.block_on(
            Mock::given(method(verb))
                .and(path(route))
                .respond_with(ResponseTemplate::new(status).set_body_json(body))
                .mount(&self.server),
        );
    }

    /// The answers to a first review of pull request 7: the pull request,
    /// then a check run 11, a review 22, no comments yet, a new comment 33.
    fn first_post(&self, base: &str, head: &str) {
        let r = "/repos/xen-project/xen";
        self.on("GET", &format!("{r}/pulls/7"), 200, pull_json(base, head));
        self.nothing_made_yet(head);
        self.on("POST", &format!("{r}/check-runs"), 201, check_run_json(11));
        self.on(
            "POST",
            &format!("{r}/pulls/7/reviews"),
            200,
            comment_json(22, ""),
        );
        self.on("GET", &format!("{r}/issues/7/comments"), 200, json!([]));
        self.on(
            "POST",
            &format!("{r}/issues/7/comments"),
            201,
            comment_json(33, ""),
        );
    }

    /// No check run for the head, no review yet.
    fn nothing_made_yet(&self, head: &str) {
        let r = "/repos/xen-project/xen";
        self.on(
            "GET",
            &format!("{r}/commits/{head}/check-runs"),
            200,
            json!({"total_count": 0, "check_runs": []}),
        );
        self.on("GET", &format!("{r}/pulls/7/reviews"), 200, json!([]));
    }

    fn reset(&self) {
        self.rt.block_on(self.server.reset());
    }

    /// (method, path, JSON body) of every request received, in order.
    fn calls(&self) -> Vec<(String, String, Value)> {
        self.rt
            .block_on(self.server.received_requests())
            .unwrap_or_default()
            .iter()
            .map(|r| {
                (
                    r.method.to_string(),
                    r.url.path().to_string(),
                    serde_json::from_slice(&r.body).unwrap_or(Value::Null),
                )
            })
            .collect()
    }

    fn tokens(&self) -> Vec<String> {
        self.rt
            .block_on(self.server.received_requests())
            .unwrap_or_default()
            .iter()
            .filter_map(|r| {
                r.headers
                    .get("authorization")
                    .map(|v| v.to_str().unwrap().to_string())
            })
            .collect()
    }
}

/// (method, path) of each call.
fn order_of(calls: &[(String, String, Value)]) -> Vec<(String, String)> {
    calls
        .iter()
        .map(|(m, p, _)| (m.clone(), p.clone()))
        .collect()
}

fn git(dir: &Path, args: &[&str]) -> String {
    common::stdout_of(
        Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(["-c", "user.name=T", "-c", "user.email=t@example.org"])
            .args(args),
    )
}

/// A clone of the example tree with a pull request's commits on a branch:
/// one adds a common section to arm's script (the sibling question for the
/// other architectures), one a misspelt CONFIG_ symbol in x86's livepatch.c
/// (a finding on a line of the diff). (dir, base, head).
fn repo() -> (tempfile::TempDir, PathBuf, String, String) {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("xen");
    common::stdout_of(
        Command::new("cp")
            .arg("-r")
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/xen-tree"))
            .arg(&p),
    );
    git(&p, &["init", "-q", "-b", "staging"]);
    git(&p, &["add", "-A"]);
    git(&p, &["commit", "-q", "-m", "base"]);
    let base = git(&p, &["rev-parse", "HEAD"]);
    let lds = p.join("xen/arch/arm/xen.lds.S");
    let t = std::fs::read_to_string(&lds).unwrap();
    let at = t.find("*(.rodata.*)\n").unwrap() + "*(.rodata.*)\n".len();
    std::fs::write(
        &lds,
        format!("{}       *(.data.ro_after_init)\n{}", &t[..at], &t[at..]),
    )
    .unwrap();
    git(
        &p,
        &["commit", "-q", "-am", "arm: collect .data.ro_after_init"],
    );
    let c = p.join("xen/arch/x86/livepatch.c");
    let mut t = std::fs::read_to_string(&c).unwrap();
    t.push_str("\nint arch_livepatch_ibt(void)\n{\n    return IS_ENABLED(CONIFG_XEN_IBT);\n}\n");
    std::fs::write(&c, t).unwrap();
    git(
        &p,
        &[
            "commit",
            "-q",
            "-am",
            "x86/livepatch: say whether IBT is on",
        ],
    );
    let head = git(&p, &["rev-parse", "HEAD"]);
    (d, p, base, head)
}

/// `GET /repos/{owner}/{repo}/pulls/{n}`, the fields of GitHub's documented
/// answer that matter here (and a few that do not).
fn pull_json(base: &str, head: &str) -> Value {
    json!({
        "url": "https://api.github.com/repos/xen-project/xen/pulls/7",
        "id": 1_000_007,
        "node_id": "PR_kwDOA",
        "html_url": "https://github.com/xen-project/xen/pull/7",
        "number": 7,
        "state": "open",
        "locked": false,
        "title": "arm: collect .data.ro_after_init",
        "user": {"login": "rosa", "id": 1, "type": "User"},
        "body": "Collect .data.ro_after_init on Arm.",
        "created_at": "2026-11-30T10:00:00Z",
        "updated_at": "2026-11-30T10:00:00Z",
        "draft": false,
        "head": {"label": "rosa:ro-after-init", "ref": "ro-after-init", "sha": head,
                 "user": {"login": "rosa", "id": 1, "type": "User"}},
        "base": {"label": "xen-project:staging", "ref": "staging", "sha": base,
                 "user": {"login": "xen-project", "id": 2, "type": "Organization"}},
        "merged": false,
        "mergeable": true,
        "commits": 2,
        "additions": 5,
        "deletions": 0,
        "changed_files": 2
    })
}

/// `POST /repos/{owner}/{repo}/check-runs`'s answer.
fn check_run_json(id: u64) -> Value {
    json!({
        "id": id,
        "head_sha": "unused",
        "node_id": "CR_kwDOA",
        "external_id": "",
        "url": format!("https://api.github.com/repos/xen-project/xen/check-runs/{id}"),
        "html_url": format!("https://github.com/xen-project/xen/runs/{id}"),
        "status": "completed",
        "conclusion": "neutral",
        "started_at": "2026-11-30T10:00:00Z",
        "completed_at": "2026-11-30T10:00:01Z",
        "output": {"title": "patchbot", "summary": "", "text": null, "annotations_count": 0},
        "name": "patchbot",
        "app": {"id": 1, "slug": "patchbot"}
    })
}

/// A pull-request review or an issue comment as GitHub answers.
fn comment_json(id: u64, body: &str) -> Value {
    json!({
        "id": id,
        "node_id": "IC_kwDOA",
        "url": format!("https://api.github.com/repos/xen-project/xen/issues/comments/{id}"),
        "html_url": format!("https://github.com/xen-project/xen/pull/7#issuecomment-{id}"),
        "body": body,
        "user": {"login": "patchbot[bot]", "id": 3, "type": "Bot"},
        "created_at": "2026-11-30T10:00:02Z",
        "updated_at": "2026-11-30T10:00:02Z",
        "author_association": "NONE"
    })
}

fn config(dir: &Path, api: &str) -> PathBuf {
    let c = dir.join("config.toml");
    std::fs::write(
        &c,
        format!(
            "[post]\nstate = \"{}\"\n[github]\napi = \"{api}\"\n",
            dir.join("state.sqlite").display()
        ),
    )
    .unwrap();
    c
}

fn review(cfg: &Path, tree: &Path) -> (Option<i32>, Value, String) {
    let out = common::patchbot()
        .env("GITHUB_TOKEN", "test-token")
        .arg("--config")
        .arg(cfg)
        .args(["review", "github:xen-project/xen#7", "--tree"])
        .arg(tree)
        .args(["--post", "--json"])
        .output()
        .unwrap();
    (
        out.status.code(),
        serde_json::from_slice(&out.stdout).unwrap_or(Value::Null),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_pull_request_is_reviewed_and_posted_once_and_its_summary_edited_on_a_new_push() {
    if !common::git_available() {
        return;
    }
    let (_d, tree, base, head) = repo();
    let state = tempfile::tempdir().unwrap();
    let fake = Fake::start();
    let cfg = config(state.path(), &fake.server.uri());
    let r = "/repos/xen-project/xen";
    fake.first_post(&base, &head);

    let (code, v, err) = review(&cfg, &tree);
    assert_eq!(code, Some(0), "{err}");
    // the review of the pull request's commits on its base
    assert_eq!(v["base"]["commit"], base);
    let rules: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert_eq!(
        rules
            .iter()
            .filter(|r| **r == "xen-sibling-pattern")
            .count(),
        3
    );
    assert!(rules.contains(&"unknown-config-symbol"), "{rules:?}");
    assert_eq!(v["post"]["github"]["posted"]["check_run"], 11);

    let calls = fake.calls();
    let order = order_of(&calls);
    assert_eq!(
        order,
        [
            ("GET".into(), format!("{r}/pulls/7")),
            ("GET".into(), format!("{r}/commits/{head}/check-runs")),
            ("POST".into(), format!("{r}/check-runs")),
            ("GET".into(), format!("{r}/pulls/7/reviews")),
            ("POST".into(), format!("{r}/pulls/7/reviews")),
            ("GET".into(), format!("{r}/issues/7/comments")),
            ("POST".into(), format!("{r}/issues/7/comments")),
        ]
    );
    let run = &calls[2].2;
    assert_eq!(run["name"], "patchbot");
    assert_eq!(run["head_sha"], head);
    assert_eq!(run["status"], "completed");
    assert_eq!(run["conclusion"], "neutral");
    let ann = run["output"]["annotations"].as_array().unwrap();
    assert_eq!(ann.len(), 4);
    assert!(ann
        .iter()
        .any(|a| a["path"] == "xen/arch/riscv/xen.lds.S" && a["annotation_level"] == "notice"));
    // inline: only the finding on a line the diff adds
    let rev = &calls[4].2;
    assert_eq!(rev["commit_id"], head);
    assert_eq!(rev["event"], "COMMENT");
    let comments = rev["comments"].as_array().unwrap();
    assert_eq!(comments.len(), 1, "{comments:?}");
    assert_eq!(comments[0]["path"], "xen/arch/x86/livepatch.c");
    assert_eq!(comments[0]["side"], "RIGHT");
    let body = calls[6].2["body"].as_str().unwrap();
    assert!(body.starts_with(patchbot::github::MARKER), "{body}");
    assert!(body.contains("xen-sibling-pattern") && body.contains("CONIFG_XEN_IBT"));
    assert!(fake.tokens().iter().all(|t| t == "Bearer test-token"));

    // the same again: the pull request is read, nothing is posted
    fake.reset();
    fake.on("GET", &format!("{r}/pulls/7"), 200, pull_json(&base, &head));
    let (code, v, err) = review(&cfg, &tree);
    assert_eq!(code, Some(0), "{err}");
    assert!(v["post"]["github"]["already_posted"].is_string(), "{v}");
    assert_eq!(fake.calls().len(), 1);

    // a new push (the typo commit amended, force-pushed): a new check run,
    // and the summary comment edited in place
    let c = tree.join("xen/arch/x86/livepatch.c");
    let t = std::fs::read_to_string(&c)
        .unwrap()
        .replace("CONIFG_", "CONFIG_");
    std::fs::write(&c, t).unwrap();
    git(&tree, &["commit", "-q", "--amend", "-a", "--no-edit"]);
    let head2 = git(&tree, &["rev-parse", "HEAD"]);
    fake.reset();
    fake.on(
        "GET",
        &format!("{r}/pulls/7"),
        200,
        pull_json(&base, &head2),
    );
    fake.nothing_made_yet(&head2);
    fake.on("POST", &format!("{r}/check-runs"), 201, check_run_json(12));
    fake.on(
        "GET",
        &format!("{r}/issues/7/comments"),
        200,
        json!([{"id": 5, "body": "LGTM"}, {"id": 33, "body": body}]),
    );
    fake.on(
        "PATCH",
        &format!("{r}/issues/comments/33"),
        200,
        comment_json(33, ""),
    );
    let (code, _, err) = review(&cfg, &tree);
    assert_eq!(code, Some(0), "{err}");
    let calls = fake.calls();
    let order = order_of(&calls);
    assert_eq!(
        order,
        [
            ("GET".into(), format!("{r}/pulls/7")),
            ("GET".into(), format!("{r}/commits/{head2}/check-runs")),
            ("POST".into(), format!("{r}/check-runs")),
            ("GET".into(), format!("{r}/issues/7/comments")),
            ("PATCH".into(), format!("{r}/issues/comments/33")),
        ],
        "no inline review: nothing is on a diff line now"
    );
    assert_eq!(calls[2].2["head_sha"], head2);
    let edited = calls[4].2["body"].as_str().unwrap();
    assert!(!edited.contains("CONIFG_XEN_IBT") && edited.contains("xen-sibling-pattern"));
}

#[test]
fn annotations_go_fifty_a_request() {
    let fake = Fake::start();
    let r = "/repos/o/r";
    fake.on(
        "GET",
        &format!("{r}/commits/h/check-runs"),
        200,
        json!({"total_count": 0, "check_runs": []}),
    );
    fake.on("POST", &format!("{r}/check-runs"), 201, check_run_json(9));
    fake.on(
        "PATCH",
        &format!("{r}/check-runs/9"),
        200,
        check_run_json(9),
    );
    fake.on("GET", &format!("{r}/issues/1/comments"), 200, json!([]));
    fake.on(
        "POST",
        &format!("{r}/issues/1/comments"),
        201,
        comment_json(3, ""),
    );
    let client = patchbot::github::Client::new(&fake.server.uri(), Some("t".into())).unwrap();
    let pr = patchbot::github::PrRef {
        owner: "o".into(),
        repo: "r".into(),
        number: 1,
    };
    let pull = patchbot::github::Pull {
        title: "t".into(),
        base_sha: "b".into(),
        head_sha: "h".into(),
        head_ref: "x".into(),
        author: "a".into(),
        commits: 1,
    };
    let review = patchbot::github::GhReview {
        key: "k".into(),
        conclusion: "neutral",
        title: "patchbot: 120 findings".into(),
        summary: "s".into(),
        annotations: (0..120)
            .map(|i| json!({"path": "f", "start_line": i + 1, "end_line": i + 1, "annotation_level": "notice", "message": "m"}))
            .collect(),
        comments: Vec::new(),
        comment: format!("{}\nbody", patchbot::github::MARKER),
    };
    let posted = client.post_review(&pr, &pull, &review).unwrap();
    assert_eq!(posted.check_run, 9);
    let calls = fake.calls();
    let batches: Vec<(String, usize, u64)> = calls
        .iter()
        .filter(|(m, p, _)| m != "GET" && p.contains("check-runs"))
        .map(|(m, _, b)| {
            let a = b["output"]["annotations"].as_array().unwrap();
            (m.clone(), a.len(), a[0]["start_line"].as_u64().unwrap())
        })
        .collect();
    assert_eq!(
        batches,
        [
            ("POST".to_string(), 50, 1),
            ("PATCH".to_string(), 50, 51),
            ("PATCH".to_string(), 20, 101)
        ]
    );
}

#[test]
fn an_api_error_is_reported_and_the_review_stays_queued() {
    if !common::git_available() {
        return;
    }
    let (_d, tree, base, head) = repo();
    let state = tempfile::tempdir().unwrap();
    let fake = Fake::start();
    let cfg = config(state.path(), &fake.server.uri());
    let r = "/repos/xen-project/xen";
    fake.on("GET", &format!("{r}/pulls/7"), 200, pull_json(&base, &head));
    fake.on(
        "POST",
        &format!("{r}/check-runs"),
        422,
        json!({"message": "Validation Failed", "documentation_url": "https://docs.github.com/rest"}),
    );
    let (code, _, err) = review(&cfg, &tree);
    assert_eq!(code, Some(6), "{err}");
    assert!(err.contains("check-runs"), "{err}");
    // the intent stays: the next run posts it
    fake.reset();
    fake.first_post(&base, &head);
    let (code, v, err) = review(&cfg, &tree);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(v["post"]["github"]["posted"]["comment"], 33);
    // a pull request the server does not know
    fake.reset();
    fake.on(
        "GET",
        &format!("{r}/pulls/7"),
        404,
        json!({"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}),
    );
    let (code, _, err) = review(&cfg, &tree);
    assert_eq!(code, Some(3), "{err}");
    assert!(err.contains("xen-project/xen#7"), "{err}");
}

#[test]
fn rate_limits_are_waited_out_a_bounded_number_of_times() {
    let fake = Fake::start();
    let r = "/repos/o/r/pulls/1";
    let pull = json!({"title": "t", "user": {"login": "a"}, "base": {"sha": "b"}, "head": {"sha": "h", "ref": "x"}});
    // rate-limited once (retry-after), then the answer
    fake.rt.block_on(
        Mock::given(method("GET"))
            .and(path(r))
            .respond_with(
                ResponseTemplate::new(429)
                    .insert_header("retry-after", "1")
                    .set_body_json(json!({"message": "API rate limit exceeded"})),
            )
            .up_to_n_times(1)
            .with_priority(1)
            .mount(&fake.server),
    );
    fake.on("GET", r, 200, pull.clone());
    let client = patchbot::github::Client::new(&fake.server.uri(), None).unwrap();
    let pr = patchbot::github::PrRef {
        owner: "o".into(),
        repo: "r".into(),
        number: 1,
    };
    let start = std::time::Instant::now();
    assert_eq!(client.pull(&pr).unwrap().head_sha, "h");
    assert!(
        start.elapsed() >= std::time::Duration::from_secs(1),
        "it waited"
    );
    assert_eq!(fake.calls().len(), 2);
    // always limited: three retries, then a clear error
    fake.reset();
    fake.rt.block_on(
        Mock::given(method("GET"))
            .and(path(r))
            .respond_with(
                ResponseTemplate::new(429)
                    .insert_header("retry-after", "0")
                    .set_body_json(json!({"message": "API rate limit exceeded"})),
            )
            .mount(&fake.server),
    );
    let e = client.pull(&pr).unwrap_err().to_string();
    assert!(e.contains("/repos/o/r/pulls/1"), "{e}");
    assert_eq!(fake.calls().len(), 4, "one try and three retries");
}

#[test]
fn a_crash_at_each_step_posts_each_thing_exactly_once() {
    if !common::git_available() {
        return;
    }
    let (_d, tree, base, head) = repo();
    let r = "/repos/xen-project/xen";
    for at in ["after-check-run", "after-review", "after-comment"] {
        let state = tempfile::tempdir().unwrap();
        let fake = Fake::start();
        let cfg = config(state.path(), &fake.server.uri());
        fake.first_post(&base, &head);
        let out = common::patchbot()
            .env("GITHUB_TOKEN", "t")
            .env("PATCHBOT_TEST_CRASH", at)
            .arg("--config")
            .arg(&cfg)
            .args(["review", "github:xen-project/xen#7", "--tree"])
            .arg(&tree)
            .args(["--post", "--json"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), None, "{at}: killed there");
        let before = fake.calls();
        let made = |calls: &[(String, String, Value)], p: &str| {
            calls
                .iter()
                .filter(|(m, q, _)| m == "POST" && q.ends_with(p))
                .count()
        };
        let key = before
            .iter()
            .find(|(m, p, _)| m == "POST" && p.ends_with("/check-runs"))
            .map(|(_, _, b)| b["external_id"].as_str().unwrap().to_string())
            .unwrap();
        // GitHub as the crashed run left it
        fake.reset();
        fake.on("GET", &format!("{r}/pulls/7"), 200, pull_json(&base, &head));
        fake.on(
            "GET",
            &format!("{r}/commits/{head}/check-runs"),
            200,
            json!({"total_count": 1, "check_runs": [{"id": 11, "name": "patchbot", "external_id": key, "output": {"annotations_count": 4}}]}),
        );
        let reviews = before
            .iter()
            .filter(|(m, p, _)| m == "POST" && p.ends_with("/reviews"))
            .map(|(_, _, b)| json!({"id": 22, "body": b["body"]}))
            .collect::<Vec<_>>();
        fake.on("GET", &format!("{r}/pulls/7/reviews"), 200, json!(reviews));
        fake.on(
            "POST",
            &format!("{r}/pulls/7/reviews"),
            200,
            comment_json(22, ""),
        );
        let comments = before
            .iter()
            .filter(|(m, p, _)| m == "POST" && p.ends_with("/issues/7/comments"))
            .map(|(_, _, b)| json!({"id": 33, "body": b["body"]}))
            .collect::<Vec<_>>();
        fake.on(
            "GET",
            &format!("{r}/issues/7/comments"),
            200,
            json!(comments),
        );
        fake.on(
            "POST",
            &format!("{r}/issues/7/comments"),
            201,
            comment_json(33, ""),
        );
        fake.on("POST", &format!("{r}/check-runs"), 201, check_run_json(99));
        let (code, v, err) = review(&cfg, &tree);
        assert_eq!(code, Some(0), "{at}: {err}");
        let after = fake.calls();
        for p in ["/check-runs", "/pulls/7/reviews", "/issues/7/comments"] {
            assert_eq!(
                made(&before, p) + made(&after, p),
                1,
                "{at}: {p} made exactly once ({v})"
            );
        }
        assert!(
            !after.iter().any(|(m, _, _)| m == "PATCH"),
            "{at}: nothing edited twice"
        );
    }
}

#[test]
fn a_github_app_mints_an_installation_token_with_a_signed_jwt() {
    let have = Command::new("openssl")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !common::reference_tool("openssl", have) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("app.pem");
    let public = dir.path().join("app.pub.pem");
    common::stdout_of(
        Command::new("openssl")
            .args([
                "genpkey",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                "rsa_keygen_bits:2048",
                "-out",
            ])
            .arg(&key),
    );
    common::stdout_of(
        Command::new("openssl")
            .args(["pkey", "-pubout", "-in"])
            .arg(&key)
            .arg("-out")
            .arg(&public),
    );
    let fake = Fake::start();
    fake.on("GET", "/repos/o/r/installation", 200, json!({"id": 42}));
    fake.on(
        "POST",
        "/app/installations/42/access_tokens",
        201,
        // as GitHub answers (docs: "Create an installation access token for an app")
        json!({
            "token": "ghs_installation",
            "expires_at": "2099-01-01T00:00:00Z",
            "permissions": {"checks": "write", "issues": "write", "pull_requests": "write", "contents": "read"},
            "repository_selection": "selected"
        }),
    );
    let pull = json!({"title": "t", "user": {"login": "a"}, "base": {"sha": "b"}, "head": {"sha": "h", "ref": "x"}});
    fake.on("GET", "/repos/o/r/pulls/1", 200, pull);
    let client = patchbot::github::Client::with_auth(
        &fake.server.uri(),
        patchbot::github::Auth::App {
            app_id: 123,
            pem: std::fs::read(&key).unwrap(),
            installation: None,
            repo: Some(("o".into(), "r".into())),
        },
    )
    .unwrap();
    let pr = patchbot::github::PrRef {
        owner: "o".into(),
        repo: "r".into(),
        number: 1,
    };
    assert_eq!(client.pull(&pr).unwrap().head_sha, "h");
    let requests = fake.rt.block_on(fake.server.received_requests()).unwrap();
    let auth = |p: &str| {
        requests
            .iter()
            .find(|r| r.url.path() == p)
            .and_then(|r| r.headers.get("authorization"))
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_else(|| panic!("no authorization on {p}"))
    };
    // the pull request is read with the installation token
    assert_eq!(auth("/repos/o/r/pulls/1"), "Bearer ghs_installation");
    // the installation was looked up and the token minted with the App's JWT
    // (a JWT is made per request, so the two may differ in their times)
    for path in [
        "/repos/o/r/installation",
        "/app/installations/42/access_tokens",
    ] {
        let jwt = auth(path);
        let jwt = jwt.strip_prefix("Bearer ").unwrap();
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3, "{path}: {jwt}");
        let b64 = |s: &str| data_encoding::BASE64URL_NOPAD.decode(s.as_bytes()).unwrap();
        let header: Value = serde_json::from_slice(&b64(parts[0])).unwrap();
        let claims: Value = serde_json::from_slice(&b64(parts[1])).unwrap();
        assert_eq!(header["alg"], "RS256", "{path}");
        // the App's id (GitHub takes it as a number or a string), valid at most 10 minutes
        assert_eq!(claims["iss"].to_string().trim_matches('"'), "123", "{path}");
        let (iat, exp) = (
            claims["iat"].as_i64().unwrap(),
            claims["exp"].as_i64().unwrap(),
        );
        assert!(exp > iat && exp - iat <= 600, "{path}: {claims}");
        // and openssl says the App's key signed it
        let signed = dir.path().join("signed");
        let sig = dir.path().join("sig");
        std::fs::write(&signed, format!("{}.{}", parts[0], parts[1])).unwrap();
        std::fs::write(&sig, b64(parts[2])).unwrap();
        let ok = Command::new("openssl")
            .args(["dgst", "-sha256", "-verify"])
            .arg(&public)
            .arg("-signature")
            .arg(&sig)
            .arg(&signed)
            .output()
            .unwrap();
        assert!(
            ok.status.success(),
            "{path}: {}",
            String::from_utf8_lossy(&ok.stdout)
        );
    }
}

/// A config for `watch` reviewing queued pull requests on `tree`, its store
/// `state.sqlite` in `state`.
fn watch_config(state: &Path, api: &str, tree: &Path) -> PathBuf {
    let cfg = state.join("config.toml");
    std::fs::write(
        &cfg,
        format!(
            "[post]\nstate = \"{}\"\n[github]\napi = \"{api}\"\n[watch]\ntree = \"{}\"\n",
            state.join("state.sqlite").display(),
            tree.display()
        ),
    )
    .unwrap();
    cfg
}

#[test]
fn a_pull_request_serve_queued_is_reviewed_by_watch_once() {
    if !common::git_available() {
        return;
    }
    let (_d, tree, base, head) = repo();
    let state = tempfile::tempdir().unwrap();
    let fake = Fake::start();
    let cfg = watch_config(state.path(), &fake.server.uri(), &tree);
    fake.first_post(&base, &head);
    // as `patchbot serve` queues a pull_request delivery
    let mut store = patchbot::state::Store::open(&state.path().join("state.sqlite")).unwrap();
    assert!(store
        .enqueue("delivery-1", "xen-project/xen", 7, &head)
        .unwrap());
    drop(store);
    let watch = || {
        common::patchbot()
            .env("GITHUB_TOKEN", "test-token")
            .arg("--config")
            .arg(&cfg)
            .args(["watch", "--once"])
            .output()
            .unwrap()
    };
    let out = watch();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let order = order_of(&fake.calls());
    let r = "/repos/xen-project/xen";
    assert!(
        order.contains(&("POST".into(), format!("{r}/check-runs"))),
        "{order:?}"
    );
    assert!(
        order.contains(&("POST".into(), format!("{r}/issues/7/comments"))),
        "{order:?}"
    );
    let store = patchbot::state::Store::open(&state.path().join("state.sqlite")).unwrap();
    assert!(store.queued().unwrap().is_empty());
    // the queue is worked off: the next round asks GitHub nothing
    let before = fake.calls().len();
    let out = watch();
    assert!(out.status.success());
    assert_eq!(fake.calls().len(), before);
}

#[test]
fn a_queued_review_that_fails_is_tried_again_then_given_up() {
    if !common::git_available() {
        return;
    }
    let (_d, tree, base, head) = repo();
    let state = tempfile::tempdir().unwrap();
    let db = state.path().join("state.sqlite");
    let fake = Fake::start();
    let cfg = watch_config(state.path(), &fake.server.uri(), &tree);
    let r = "/repos/xen-project/xen";
    let unknown = || {
        fake.reset();
        fake.on(
            "GET",
            &format!("{r}/pulls/7"),
            404,
            json!({"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}),
        );
    };
    let run = |args: &[&str]| {
        common::stdout_of(
            common::patchbot()
                .env("GITHUB_TOKEN", "test-token")
                .arg("--config")
                .arg(&cfg)
                .args(args),
        )
    };
    let queued = || patchbot::state::Store::open(&db).unwrap().queued().unwrap();
    patchbot::state::Store::open(&db)
        .unwrap()
        .enqueue("delivery-1", "xen-project/xen", 7, &head)
        .unwrap();
    // GitHub fails once: the review stays queued, with why
    unknown();
    run(&["watch", "--once"]);
    let q = queued();
    assert_eq!(q.len(), 1, "{q:?}");
    assert_eq!(q[0].attempts, 1);
    assert!(
        q[0].last_error
            .as_deref()
            .is_some_and(|e| e.contains("xen-project/xen#7")),
        "{q:?}"
    );
    let status = run(&["status"]);
    assert!(status.contains("failed 1 times"), "{status}");
    // the next round, with GitHub back, reviews and posts it
    fake.reset();
    fake.first_post(&base, &head);
    run(&["watch", "--once"]);
    assert!(queued().is_empty());
    assert!(
        order_of(&fake.calls()).contains(&("POST".into(), format!("{r}/check-runs"))),
        "{:?}",
        fake.calls()
    );
    // one that keeps failing is tried three times, then left alone
    patchbot::state::Store::open(&db)
        .unwrap()
        .enqueue("delivery-2", "xen-project/xen", 7, &head)
        .unwrap();
    unknown();
    for attempt in 1..=3 {
        assert_eq!(queued().len(), 1, "before attempt {attempt}");
        run(&["watch", "--once"]);
    }
    assert!(queued().is_empty());
    let before = fake.calls().len();
    run(&["watch", "--once"]);
    assert_eq!(fake.calls().len(), before, "a given-up review is not tried");
    let status = run(&["status"]);
    assert!(status.contains("given up"), "{status}");
}
