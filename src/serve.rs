//! `patchbot serve`: GitHub webhooks in, reviews queued.
//!
//! Every request's `X-Hub-Signature-256` (HMAC-SHA256 of the body with the
//! webhook secret) is checked before the body is read as JSON; a request that
//! fails is answered 401 and leaves no trace. `pull_request` events (opened,
//! synchronize, reopened) are queued in the state store (once per delivery
//! id) and answered 202 at once, well within GitHub's 10 seconds; `ping` is
//! answered; anything else is acknowledged and ignored.

use std::sync::{Arc, Mutex};

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::state::Store;

/// GitHub's largest webhook payload (25 MB).
pub const MAX_BODY: usize = 25 * 1024 * 1024;

/// Whether `header` (`sha256=<hex>`) is the HMAC-SHA256 of `body` under
/// `secret` (compared in constant time).
pub fn verify(secret: &[u8], body: &[u8], header: Option<&str>) -> bool {
    let Some(hex) = header.and_then(|h| h.trim().strip_prefix("sha256=")) else {
        return false;
    };
    let Ok(want) = data_encoding::HEXLOWER_PERMISSIVE.decode(hex.as_bytes()) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&want).is_ok()
}

/// What a webhook request gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub body: String,
}

fn answer(status: u16, body: serde_json::Value) -> Answer {
    Answer {
        status,
        body: body.to_string(),
    }
}

/// Handle one delivery: `event` (X-GitHub-Event), `delivery`
/// (X-GitHub-Delivery), `signature` (X-Hub-Signature-256), the raw body.
pub fn handle(
    store: &Mutex<Store>,
    secret: &[u8],
    event: Option<&str>,
    delivery: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
) -> Answer {
    if !verify(secret, body, signature) {
        return answer(
            401,
            serde_json::json!({"error": "bad or missing X-Hub-Signature-256"}),
        );
    }
    match event {
        Some("ping") => answer(200, serde_json::json!({"pong": true})),
        Some("pull_request") => {
            let v: serde_json::Value = match serde_json::from_slice(body) {
                Ok(v) => v,
                Err(e) => {
                    return answer(400, serde_json::json!({"error": format!("not JSON: {e}")}))
                }
            };
            let action = v["action"].as_str().unwrap_or_default();
            if !matches!(action, "opened" | "synchronize" | "reopened") {
                return answer(
                    200,
                    serde_json::json!({"ignored": format!("pull_request {action}")}),
                );
            }
            let (Some(repo), Some(number), Some(head)) = (
                v.pointer("/repository/full_name").and_then(|x| x.as_str()),
                v.pointer("/pull_request/number").and_then(|x| x.as_u64()),
                v.pointer("/pull_request/head/sha").and_then(|x| x.as_str()),
            ) else {
                return answer(
                    400,
                    serde_json::json!({"error": "a pull_request event without repository, number or head"}),
                );
            };
            let id = delivery.unwrap_or_default();
            let queued = store
                .lock()
                .map_err(|_| "the state store lock is poisoned".to_string())
                .and_then(|mut s| s.enqueue(id, repo, number, head).map_err(|e| e.to_string()));
            match queued {
                Ok(new) => answer(
                    202,
                    serde_json::json!({"queued": format!("{repo}#{number}"), "head": head, "new": new}),
                ),
                Err(e) => answer(503, serde_json::json!({"error": e})),
            }
        }
        Some(other) => answer(200, serde_json::json!({"ignored": other})),
        None => answer(400, serde_json::json!({"error": "no X-GitHub-Event"})),
    }
}

/// Serve webhooks on `listen` until SIGINT or SIGTERM; `ready` is told the
/// address bound (port 0 picks one).
pub fn run(
    listen: &str,
    store: Store,
    secret: Vec<u8>,
    ready: impl FnOnce(std::net::SocketAddr),
) -> Result<(), String> {
    use axum::body::Bytes;
    use axum::http::{HeaderMap, StatusCode};
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let store = Arc::new(Mutex::new(store));
    let secret = Arc::new(secret);
    rt.block_on(async move {
        let hook = move |headers: HeaderMap, body: Bytes| {
            let (store, secret) = (store.clone(), secret.clone());
            async move {
                let h = |n: &str| {
                    headers
                        .get(n)
                        .and_then(|v| v.to_str().ok())
                        .map(String::from)
                };
                let a = handle(
                    &store,
                    &secret,
                    h("x-github-event").as_deref(),
                    h("x-github-delivery").as_deref(),
                    h("x-hub-signature-256").as_deref(),
                    &body,
                );
                (
                    StatusCode::from_u16(a.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                    [("content-type", "application/json")],
                    a.body,
                )
            }
        };
        let app = axum::Router::new()
            .route("/", axum::routing::post(hook.clone()))
            .route("/webhook", axum::routing::post(hook))
            .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY));
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|e| format!("--listen {listen}: {e}"))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        // the handlers are in place before anyone is told the address
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate()).map_err(|e| e.to_string())?;
        let mut int = signal(SignalKind::interrupt()).map_err(|e| e.to_string())?;
        ready(addr);
        let stop = async move {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        };
        axum::serve(listener, app)
            .with_graceful_shutdown(stop)
            .await
            .map_err(|e| e.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn githubs_published_example_signature() {
        // docs.github.com, "Validating webhook deliveries"
        let secret = b"It's a Secret to Everybody";
        let body = b"Hello, World!";
        let sig = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
        assert!(verify(secret, body, Some(sig)));
        assert!(!verify(secret, b"Hello, World?", Some(sig)));
        assert!(!verify(b"another secret", body, Some(sig)));
        assert!(!verify(secret, body, None));
        assert!(!verify(secret, body, Some("sha1=757107ea")));
        assert!(!verify(secret, body, Some("sha256=zz")));
    }
}
