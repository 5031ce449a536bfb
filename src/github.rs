//! GitHub: a pull request as a series (its base and head commits, read with
//! octocrab), and the review posted back: a check run on the head commit
//! (annotations at most 50 a request, the rest in later updates), a
//! pull-request review with inline comments only on lines inside the diff,
//! and one summary comment carrying a hidden marker, edited in place on later
//! pushes instead of posted anew.
//!
//! The API base comes from `[github] api` (tests point it at a local server
//! speaking GitHub's REST API); the token from `$GITHUB_TOKEN` (or the
//! variable `[github] token_env` names), never from a tree.

use serde_json::{json, Value};

use crate::post::crash_point;
use crate::rules::{Finding, Severity};

/// The hidden marker of patchbot's summary comment.
pub const MARKER: &str = "<!-- patchbot:summary -->";
/// GitHub takes at most this many annotations in one request.
pub const ANNOTATIONS_PER_REQUEST: usize = 50;

#[derive(Debug, thiserror::Error)]
pub enum GhError {
    #[error("GitHub API {route}: {why}")]
    Api { route: String, why: String },
    #[error("GitHub: {0}")]
    Setup(String),
}

/// `OWNER/REPO#N`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrRef {
    pub owner: String,
    pub repo: String,
    pub number: u64,
}

impl std::fmt::Display for PrRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}#{}", self.owner, self.repo, self.number)
    }
}

/// What a pull request is, as the review needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pull {
    pub title: String,
    pub base_sha: String,
    pub head_sha: String,
    pub head_ref: String,
    pub author: String,
    pub commits: u64,
}

pub struct Client {
    oc: octocrab::Octocrab,
    rt: tokio::runtime::Runtime,
}

fn route_err(route: &str, e: impl std::fmt::Display) -> GhError {
    GhError::Api {
        route: route.to_string(),
        why: e.to_string(),
    }
}

/// How to authenticate.
pub enum Auth {
    None,
    /// A token (Actions' `GITHUB_TOKEN`, a personal or installation token).
    Token(String),
    /// A GitHub App: its id and RSA private key (PEM); the installation's id,
    /// or the repository whose installation to look up.
    App {
        app_id: u64,
        pem: Vec<u8>,
        installation: Option<u64>,
        repo: Option<(String, String)>,
    },
}

impl Client {
    /// A client of the API at `api` (`https://api.github.com`), with a token.
    pub fn new(api: &str, token: Option<String>) -> Result<Client, GhError> {
        Client::with_auth(api, token.map_or(Auth::None, Auth::Token))
    }

    /// A client of the API at `api`; a GitHub App authenticates with a JWT
    /// (RS256) to mint an installation token, refreshed as it expires.
    pub fn with_auth(api: &str, auth: Auth) -> Result<Client, GhError> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| GhError::Setup(e.to_string()))?;
        let oc = {
            let _g = rt.enter();
            // rate limits: a 429 or a 403 with rate-limit headers waits as
            // GitHub says (retry-after, or until x-ratelimit-reset), a 5xx is
            // retried; at most three times
            use octocrab::service::middleware::retry::{NoOpRateLimitMetrics, RetryConfig};
            let b = octocrab::Octocrab::builder()
                .add_retry_config(RetryConfig::HandleRateLimits {
                    metrics: std::sync::Arc::new(NoOpRateLimitMetrics),
                    max_retries: 3,
                    min_wait_seconds: 1,
                    retry_on_forbidden: false,
                })
                .base_uri(api)
                .map_err(|e| GhError::Setup(format!("[github] api {api:?}: {e}")))?;
            match auth {
                Auth::None => b.build().map_err(|e| GhError::Setup(e.to_string()))?,
                Auth::Token(t) => b
                    .personal_token(t)
                    .build()
                    .map_err(|e| GhError::Setup(e.to_string()))?,
                Auth::App {
                    app_id,
                    pem,
                    installation,
                    repo,
                } => {
                    let app = b
                        .app_from_rsa_pem(octocrab::models::AppId(app_id), &pem)
                        .map_err(|e| GhError::Setup(format!("the GitHub App key: {e}")))?
                        .build()
                        .map_err(|e| GhError::Setup(e.to_string()))?;
                    let id = match (installation, repo) {
                        (Some(id), _) => id,
                        (None, Some((o, r))) => {
                            let route = format!("/repos/{o}/{r}/installation");
                            let v: Value = rt
                                .block_on(app.get(&route, None::<&()>))
                                .map_err(|e| route_err(&route, e))?;
                            v["id"].as_u64().ok_or_else(|| {
                                route_err(&route, "the answer has no installation id")
                            })?
                        }
                        (None, None) => {
                            return Err(GhError::Setup(
                                "a GitHub App needs [github] installation_id or a repository"
                                    .into(),
                            ))
                        }
                    };
                    app.installation(octocrab::models::InstallationId(id))
                        .map_err(|e| GhError::Setup(e.to_string()))?
                }
            }
        };
        Ok(Client { oc, rt })
    }

    fn get(&self, route: &str) -> Result<Value, GhError> {
        self.rt
            .block_on(self.oc.get::<Value, _, ()>(route, None))
            .map_err(|e| route_err(route, e))
    }

    fn post(&self, route: &str, body: &Value) -> Result<Value, GhError> {
        self.rt
            .block_on(self.oc.post::<_, Value>(route, Some(body)))
            .map_err(|e| route_err(route, e))
    }

    fn patch(&self, route: &str, body: &Value) -> Result<Value, GhError> {
        self.rt
            .block_on(self.oc.patch::<Value, _, _>(route, Some(body)))
            .map_err(|e| route_err(route, e))
    }

    /// The pull request.
    pub fn pull(&self, pr: &PrRef) -> Result<Pull, GhError> {
        let route = format!("/repos/{}/{}/pulls/{}", pr.owner, pr.repo, pr.number);
        let v = self.get(&route)?;
        let s = |p: &str| {
            v.pointer(p)
                .and_then(Value::as_str)
                .map(String::from)
                .ok_or_else(|| route_err(&route, format!("the answer has no {p}")))
        };
        Ok(Pull {
            title: s("/title")?,
            base_sha: s("/base/sha")?,
            head_sha: s("/head/sha")?,
            head_ref: s("/head/ref")?,
            author: s("/user/login")?,
            commits: v.get("commits").and_then(Value::as_u64).unwrap_or(0),
        })
    }

    /// Post a review of the head commit: the check run (annotations in
    /// batches), the inline comments on diff lines, and the summary comment,
    /// edited in place when there is one. Every step is looked for first by
    /// the review's key (the check run's `external_id`, a marker in the
    /// review's and the comment's body), so a run after a crash finishes
    /// what the last one began and makes nothing twice. The ids of what was made.
    pub fn post_review(
        &self,
        pr: &PrRef,
        pull: &Pull,
        review: &GhReview,
    ) -> Result<Posted, GhError> {
        let repo = format!("/repos/{}/{}", pr.owner, pr.repo);
        let key_mark = format!("<!-- patchbot:key {} ", review.key);
        let batches: Vec<&[Value]> = if review.annotations.is_empty() {
            vec![&[]]
        } else {
            review.annotations.chunks(ANNOTATIONS_PER_REQUEST).collect()
        };
        let output = |batch: &[Value]| {
            json!({
                "title": review.title,
                "summary": review.summary,
                "annotations": batch,
            })
        };
        // the check run: made by an earlier run (its annotations so far), or
        // created with the first batch
        let (check_run, done) = match self.check_run_of(&repo, &pull.head_sha, &review.key)? {
            Some((id, count)) => (
                id,
                (count as usize).div_ceil(ANNOTATIONS_PER_REQUEST).max(1),
            ),
            None => {
                let route = format!("{repo}/check-runs");
                let run = self.post(
                    &route,
                    &json!({
                        "name": "patchbot",
                        "head_sha": pull.head_sha,
                        "external_id": review.key,
                        "status": "completed",
                        "conclusion": review.conclusion,
                        "output": output(batches[0]),
                    }),
                )?;
                let id = run
                    .get("id")
                    .and_then(Value::as_u64)
                    .ok_or_else(|| route_err(&route, "the answer has no id"))?;
                (id, 1)
            }
        };
        for batch in batches.iter().skip(done) {
            self.patch(
                &format!("{repo}/check-runs/{check_run}"),
                &json!({ "output": output(batch) }),
            )?;
        }
        crash_point("after-check-run");
        // inline comments: only lines inside the diff (GitHub refuses the
        // whole review when one is not)
        let review_id = if review.comments.is_empty() {
            None
        } else {
            let route = format!("{repo}/pulls/{}/reviews", pr.number);
            match self.find(&format!("{route}?per_page=100"), &key_mark)? {
                Some(id) => Some(id),
                None => {
                    let r = self.post(
                        &route,
                        &json!({
                            "commit_id": pull.head_sha,
                            "event": "COMMENT",
                            "body": format!("{key_mark}-->\npatchbot: {} finding{} on lines of this pull request; the summary has them all.",
                                review.comments.len(), if review.comments.len() == 1 { "" } else { "s" }),
                            "comments": review.comments,
                        }),
                    )?;
                    r.get("id").and_then(Value::as_u64)
                }
            }
        };
        crash_point("after-review");
        // the summary comment: the one with the marker, edited (unless it is
        // this review's already); else a new one
        let comment = match self.summary_comment(pr)? {
            Some((id, body)) if body.contains(&key_mark) => id,
            Some((id, _)) => {
                self.patch(
                    &format!("{repo}/issues/comments/{id}"),
                    &json!({ "body": review.comment }),
                )?;
                id
            }
            None => {
                let route = format!("{repo}/issues/{}/comments", pr.number);
                let c = self.post(&route, &json!({ "body": review.comment }))?;
                c.get("id")
                    .and_then(Value::as_u64)
                    .ok_or_else(|| route_err(&route, "the answer has no id"))?
            }
        };
        crash_point("after-comment");
        Ok(Posted {
            check_run,
            review: review_id,
            comment,
        })
    }

    /// The check run an earlier run made for this head and key: its id and
    /// how many annotations it has.
    fn check_run_of(
        &self,
        repo: &str,
        head: &str,
        key: &str,
    ) -> Result<Option<(u64, u64)>, GhError> {
        let v = self.get(&format!(
            "{repo}/commits/{head}/check-runs?check_name=patchbot&per_page=100"
        ))?;
        Ok(v["check_runs"].as_array().and_then(|runs| {
            runs.iter().find_map(|r| {
                (r["external_id"].as_str() == Some(key)).then(|| {
                    (
                        r["id"].as_u64().unwrap_or_default(),
                        r.pointer("/output/annotations_count")
                            .and_then(Value::as_u64)
                            .unwrap_or_default(),
                    )
                })
            })
        }))
    }

    /// The id of the first item of a list whose body holds `mark`.
    fn find(&self, route: &str, mark: &str) -> Result<Option<u64>, GhError> {
        let v = self.get(route)?;
        Ok(v.as_array().and_then(|l| {
            l.iter().find_map(|x| {
                x["body"]
                    .as_str()
                    .is_some_and(|b| b.contains(mark))
                    .then(|| x["id"].as_u64())
                    .flatten()
            })
        }))
    }

    /// patchbot's summary comment on the pull request, if it made one: its id
    /// and body.
    pub fn summary_comment(&self, pr: &PrRef) -> Result<Option<(u64, String)>, GhError> {
        for page in 1..=10 {
            let v = self.get(&format!(
                "/repos/{}/{}/issues/{}/comments?per_page=100&page={page}",
                pr.owner, pr.repo, pr.number
            ))?;
            let list = v.as_array().cloned().unwrap_or_default();
            for c in &list {
                let body = c.get("body").and_then(Value::as_str).unwrap_or_default();
                if body.contains(MARKER) {
                    if let Some(id) = c.get("id").and_then(Value::as_u64) {
                        return Ok(Some((id, body.to_string())));
                    }
                }
            }
            if list.len() < 100 {
                break;
            }
        }
        Ok(None)
    }
}

/// What was made on GitHub.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Posted {
    pub check_run: u64,
    pub review: Option<u64>,
    pub comment: u64,
}

/// A review as GitHub takes it.
pub struct GhReview {
    /// The idempotency key (the check run's `external_id`, in the markers).
    pub key: String,
    pub conclusion: &'static str,
    pub title: String,
    pub summary: String,
    pub annotations: Vec<Value>,
    pub comments: Vec<Value>,
    /// The summary comment's body, marker and key included.
    pub comment: String,
}

/// The check run's conclusion: failure for an error, neutral for warnings
/// and notes, success for nothing.
pub fn conclusion(findings: &[Finding]) -> &'static str {
    match findings.iter().map(|f| f.severity).max() {
        Some(Severity::Error) => "failure",
        Some(_) => "neutral",
        None => "success",
    }
}

/// Build the review: annotations at each finding's file and line, inline
/// comments for the findings on a line the diff adds (`in_diff(path, line)`),
/// the Markdown summary and the summary comment (with the marker and `key`).
pub fn review_of(
    findings: &[Finding],
    in_diff: &dyn Fn(&str, u32) -> bool,
    base: &str,
    key: &str,
) -> GhReview {
    let level = |s: Severity| match s {
        Severity::Error => "failure",
        Severity::Warning => "warning",
        Severity::Note => "notice",
    };
    let annotations: Vec<Value> = findings
        .iter()
        .filter_map(|f| {
            let l = f.location.as_ref()?;
            let line = l.line.max(1);
            Some(json!({
                "path": l.file,
                "start_line": line,
                "end_line": line,
                "annotation_level": level(f.severity),
                "title": f.rule,
                "message": f.message,
            }))
        })
        .collect();
    let comments: Vec<Value> = findings
        .iter()
        .filter_map(|f| {
            let p = f.patch.as_ref()?;
            in_diff(&p.file, p.line).then(|| {
                json!({
                    "path": p.file,
                    "line": p.line,
                    "side": "RIGHT",
                    "body": format!("**{}** ({}): {}", f.rule, f.severity.as_str(), f.message),
                })
            })
        })
        .collect();
    let title = match findings.len() {
        0 => "patchbot: no findings".to_string(),
        1 => "patchbot: 1 finding".to_string(),
        n => format!("patchbot: {n} findings"),
    };
    let mut summary = format!(
        "patchbot rebuilt what this pull request changes (Kconfig results and linker scripts, every architecture and variant) against base `{base}`.\n\n"
    );
    if findings.is_empty() {
        summary.push_str("Nothing to report.\n");
    }
    for f in findings {
        let at = f
            .location
            .as_ref()
            .map(|l| format!(" at `{}:{}`", l.file, l.line))
            .unwrap_or_default();
        summary.push_str(&format!(
            "- **{}** ({}{}){at}: {}\n",
            f.rule,
            f.severity.as_str(),
            if f.arch.is_empty() {
                String::new()
            } else {
                format!(", {}", f.arch.join(", "))
            },
            f.message
        ));
    }
    let fps: Vec<&str> = findings.iter().map(|f| f.fingerprint.as_str()).collect();
    let comment = format!(
        "{MARKER}\n<!-- patchbot:key {key} fingerprints {} -->\n### {title}\n\n{summary}",
        fps.join(",")
    );
    GhReview {
        key: key.to_string(),
        conclusion: conclusion(findings),
        title,
        summary,
        annotations,
        comments,
        comment,
    }
}
