//! The state store: what patchbot has reviewed and posted, in SQLite, so every
//! step is idempotent across runs and crashes.
//!
//! Opened (and created) at a path from `config.toml`; the schema is versioned
//! (`schema_version`) and migrated forward on open, each migration in its own
//! transaction, so a store written by an older patchbot is upgraded and one
//! from a newer patchbot is refused rather than misread.
//!
//! Posting is "decide → post → record": [`Store::intend`] writes the intent
//! (with the whole payload and the outgoing Message-ID, both derived from the
//! idempotency key) before anything leaves; [`Store::posted`] records the
//! post. An intent without a post is settled on the next run by checking the
//! sink where it can be checked, then posting if it was not made.

use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, OptionalExtension};

/// Forward migrations, in order: `MIGRATIONS[i]` takes the schema from
/// version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[
    // 1: messages, series, reviews with findings, posts
    "CREATE TABLE messages (
         message_id TEXT PRIMARY KEY,
         source TEXT NOT NULL,
         cursor TEXT,
         seen_at INTEGER NOT NULL
     );
     CREATE TABLE series (
         id INTEGER PRIMARY KEY,
         key TEXT NOT NULL,
         version INTEGER NOT NULL,
         title TEXT NOT NULL,
         message_id TEXT,
         UNIQUE (key, version)
     );
     CREATE TABLE reviews (
         id INTEGER PRIMARY KEY,
         series_id INTEGER NOT NULL REFERENCES series (id),
         base TEXT NOT NULL,
         rules TEXT NOT NULL,
         at INTEGER NOT NULL
     );
     CREATE TABLE findings (
         review_id INTEGER NOT NULL REFERENCES reviews (id),
         fingerprint TEXT NOT NULL,
         rule TEXT NOT NULL,
         severity TEXT NOT NULL,
         message TEXT NOT NULL,
         PRIMARY KEY (review_id, fingerprint)
     );
     CREATE TABLE posts (
         key TEXT PRIMARY KEY,
         sink TEXT NOT NULL,
         target TEXT NOT NULL,
         message_id TEXT NOT NULL,
         payload BLOB NOT NULL,
         state TEXT NOT NULL CHECK (state IN ('intent', 'posted')),
         remote_id TEXT,
         created_at INTEGER NOT NULL,
         posted_at INTEGER
     );",
    // 2: maintainers' answers to patchbot, per series
    "CREATE TABLE commands (
         series_key TEXT NOT NULL,
         message_id TEXT NOT NULL,
         by TEXT NOT NULL,
         command TEXT NOT NULL,
         at INTEGER NOT NULL,
         PRIMARY KEY (series_key, message_id, command)
     );",
    // 3: reviews queued by webhooks (`patchbot serve`)
    "CREATE TABLE queue (
         delivery TEXT PRIMARY KEY,
         repo TEXT NOT NULL,
         number INTEGER NOT NULL,
         head TEXT NOT NULL,
         state TEXT NOT NULL DEFAULT 'queued',
         received_at INTEGER NOT NULL
     );",
    // 4: `patchbot watch`: sources with their cursors, the messages taken in,
    // the series followed, and what happened (for `patchbot status`)
    "CREATE TABLE watch_sources (
         name TEXT PRIMARY KEY,
         cursor TEXT NOT NULL DEFAULT '{}',
         validators TEXT NOT NULL DEFAULT '{}',
         rounds INTEGER NOT NULL DEFAULT 0,
         last_round INTEGER,
         failures INTEGER NOT NULL DEFAULT 0,
         last_error TEXT,
         dirty INTEGER NOT NULL DEFAULT 0,
         planned INTEGER NOT NULL DEFAULT 0
     );
     CREATE TABLE inbox (
         id INTEGER PRIMARY KEY,
         source TEXT NOT NULL,
         message_id TEXT NOT NULL,
         received INTEGER NOT NULL,
         raw BLOB NOT NULL,
         UNIQUE (source, message_id)
     );
     CREATE TABLE watched (
         source TEXT NOT NULL,
         anchor TEXT NOT NULL,
         series_key TEXT NOT NULL,
         version INTEGER NOT NULL,
         title TEXT NOT NULL,
         author TEXT NOT NULL,
         parts TEXT NOT NULL,
         total INTEGER NOT NULL,
         missing TEXT NOT NULL,
         last_arrival INTEGER NOT NULL,
         state TEXT NOT NULL,
         reviewed_parts TEXT,
         result TEXT,
         updated INTEGER NOT NULL,
         attempts INTEGER NOT NULL DEFAULT 0,
         PRIMARY KEY (source, anchor)
     );
     CREATE TABLE digests (
         id INTEGER PRIMARY KEY,
         target TEXT NOT NULL,
         at INTEGER NOT NULL,
         snapshot TEXT NOT NULL
     );
     CREATE TABLE events (
         id INTEGER PRIMARY KEY,
         at INTEGER NOT NULL,
         level TEXT NOT NULL,
         source TEXT NOT NULL,
         text TEXT NOT NULL
     );",
    // 5: a queued review that failed is tried again, a bounded number of times
    "ALTER TABLE queue ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
     ALTER TABLE queue ADD COLUMN last_error TEXT;",
];

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("state store {path}: {why}")]
    Open { path: String, why: String },
    #[error("state store {path}: schema version {found} is newer than this patchbot's ({known}); use a newer patchbot or another store")]
    TooNew {
        path: String,
        found: u32,
        known: u32,
    },
    #[error("state store: {0}")]
    Sql(#[from] rusqlite::Error),
}

/// One post, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Post {
    pub key: String,
    pub sink: String,
    pub target: String,
    pub message_id: String,
    pub payload: Vec<u8>,
    pub posted: bool,
    pub remote_id: Option<String>,
}

/// What recording an intent found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Intent {
    /// Recorded now: post it.
    New,
    /// An earlier run recorded it and did not finish: settle it.
    Unfinished(Post),
    /// Posted already: nothing to do.
    Posted(Post),
}

pub struct Store {
    conn: Connection,
    path: PathBuf,
}

/// A post as `status` lists it: (sink, target, Message-ID, posted, time).
pub type PostRow = (String, String, String, bool, i64);

/// A pull request review `patchbot serve` queued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queued {
    pub delivery: String,
    pub repo: String,
    pub number: u64,
    pub head: String,
    /// Failed attempts so far.
    pub attempts: u32,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
}

/// A watched source: its cursor and validators (JSON), rounds, failures.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct SourceState {
    pub name: String,
    pub cursor: String,
    pub validators: String,
    pub rounds: u64,
    pub last_round: Option<i64>,
    pub failures: u32,
    pub last_error: Option<String>,
    /// A round has planned every series of it to the end (the backlog, if
    /// skipped, is marked).
    pub planned: bool,
}

/// A series `watch` follows, by its anchor (the Message-ID of its cover
/// letter, else of its first patch).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Watched {
    pub source: String,
    pub anchor: String,
    pub key: String,
    pub version: u32,
    pub title: String,
    pub author: String,
    /// The patches' Message-IDs, one per line, as last seen.
    pub parts: String,
    pub total: u32,
    /// The missing parts' numbers, comma-separated.
    pub missing: String,
    /// When its newest part arrived.
    pub last_arrival: i64,
    /// `waiting` (for its parts), `reviewed`, `backlog` (there before the
    /// source was first read, not reviewed), `failed` (retried next round),
    /// `gave-up` (failed too often; retried when its parts change).
    pub state: String,
    /// The parts the last review saw.
    pub reviewed_parts: Option<String>,
    /// What the last review said (JSON), or why it failed.
    pub result: Option<String>,
    pub updated: i64,
    /// Failed reviews of these parts in a row (at [`crate::watch::MAX_ATTEMPTS`]
    /// the series is `gave-up` until its parts change).
    pub attempts: u32,
}

/// One review of one version of a series, as recorded.
pub struct ReviewRecord<'a> {
    /// The series' identity across versions (change-id, or title and author).
    pub key: &'a str,
    pub version: u32,
    pub title: &'a str,
    /// The message the series is answered at.
    pub message_id: Option<&'a str>,
    pub base: &'a str,
    /// Which patchbot and rule set reviewed it.
    pub rules: &'a str,
    pub findings: &'a [StoredFinding<'a>],
}

/// An earlier version's findings: its version, and (fingerprint, rule,
/// message) of each.
pub type Previous = (u32, Vec<(String, String, String)>);

/// A finding as the store keeps it.
pub struct StoredFinding<'a> {
    pub fingerprint: &'a str,
    pub rule: &'a str,
    pub severity: &'a str,
    pub message: &'a str,
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

impl Store {
    /// Open the store at `path`, creating it (and its directory) and
    /// migrating it to this patchbot's schema.
    pub fn open(path: &Path) -> Result<Store, StateError> {
        let err = |why: String| StateError::Open {
            path: path.display().to_string(),
            why,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| err(e.to_string()))?;
        }
        let conn = Connection::open(path).map_err(|e| err(e.to_string()))?;
        // another patchbot may hold the store a moment: wait, do not fail
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(|e| err(format!("not a usable SQLite database ({e})")))?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        let mut s = Store {
            conn,
            path: path.to_path_buf(),
        };
        s.migrate()?;
        Ok(s)
    }

    /// A store in memory, migrated (for a dry run on a store not made yet).
    pub fn in_memory() -> Result<Store, StateError> {
        let conn = Connection::open_in_memory()?;
        let mut s = Store {
            conn,
            path: PathBuf::from(":memory:"),
        };
        s.migrate()?;
        Ok(s)
    }

    /// The schema version this patchbot writes.
    pub const fn schema_version() -> u32 {
        MIGRATIONS.len() as u32
    }

    /// The schema version of the store as it is.
    pub fn version(&self) -> Result<u32, StateError> {
        Ok(self
            .conn
            .query_row("SELECT version FROM schema_version", [], |r| r.get(0))?)
    }

    fn migrate(&mut self) -> Result<(), StateError> {
        self.conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
             INSERT INTO schema_version (version)
                 SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM schema_version);",
        )?;
        let known = Store::schema_version();
        let found = self.version()?;
        if found > known {
            return Err(StateError::TooNew {
                path: self.path.display().to_string(),
                found,
                known,
            });
        }
        for (i, m) in MIGRATIONS.iter().enumerate().skip(found as usize) {
            let tx = self.conn.transaction()?;
            tx.execute_batch(m)?;
            tx.execute("UPDATE schema_version SET version = ?1", [i as u32 + 1])?;
            tx.commit()?;
        }
        Ok(())
    }

    /// Record a review of one version of a series (the series row made when
    /// first seen) and its findings; the review's id.
    pub fn record_review(&mut self, r: &ReviewRecord) -> Result<i64, StateError> {
        let ReviewRecord {
            key,
            version,
            title,
            message_id,
            base,
            rules,
            findings,
        } = *r;
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO series (key, version, title, message_id) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (key, version) DO UPDATE SET title = excluded.title",
            params![key, version, title, message_id],
        )?;
        let series: i64 = tx.query_row(
            "SELECT id FROM series WHERE key = ?1 AND version = ?2",
            params![key, version],
            |r| r.get(0),
        )?;
        tx.execute(
            "INSERT INTO reviews (series_id, base, rules, at) VALUES (?1, ?2, ?3, ?4)",
            params![series, base, rules, now()],
        )?;
        let review = tx.last_insert_rowid();
        for f in findings {
            tx.execute(
                "INSERT OR IGNORE INTO findings (review_id, fingerprint, rule, severity, message)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![review, f.fingerprint, f.rule, f.severity, f.message],
            )?;
        }
        tx.commit()?;
        Ok(review)
    }

    /// The findings of the latest review of the newest version before
    /// `version` of a series: (version, fingerprint, rule, message).
    pub fn previous_findings(
        &self,
        key: &str,
        version: u32,
    ) -> Result<Option<Previous>, StateError> {
        let prev: Option<(u32, i64)> = self
            .conn
            .query_row(
                "SELECT s.version, r.id FROM reviews r JOIN series s ON s.id = r.series_id
                 WHERE s.key = ?1 AND s.version < ?2
                 ORDER BY s.version DESC, r.id DESC LIMIT 1",
                params![key, version],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let Some((v, review)) = prev else {
            return Ok(None);
        };
        let mut st = self.conn.prepare(
            "SELECT fingerprint, rule, message FROM findings WHERE review_id = ?1
             ORDER BY fingerprint",
        )?;
        let rows = st
            .query_map([review], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Some((v, rows)))
    }

    fn post_row(r: &rusqlite::Row) -> rusqlite::Result<Post> {
        Ok(Post {
            key: r.get(0)?,
            sink: r.get(1)?,
            target: r.get(2)?,
            message_id: r.get(3)?,
            payload: r.get(4)?,
            posted: r.get::<_, String>(5)? == "posted",
            remote_id: r.get(6)?,
        })
    }

    /// A post by its idempotency key.
    pub fn post(&self, key: &str) -> Result<Option<Post>, StateError> {
        Ok(self
            .conn
            .query_row(
                "SELECT key, sink, target, message_id, payload, state, remote_id
                 FROM posts WHERE key = ?1",
                [key],
                Store::post_row,
            )
            .optional()?)
    }

    /// Record the intent to post (before posting): New when recorded now,
    /// or what an earlier run left.
    pub fn intend(
        &mut self,
        key: &str,
        sink: &str,
        target: &str,
        message_id: &str,
        payload: &[u8],
    ) -> Result<Intent, StateError> {
        let tx = self.conn.transaction()?;
        let old = tx
            .query_row(
                "SELECT key, sink, target, message_id, payload, state, remote_id
                 FROM posts WHERE key = ?1",
                [key],
                Store::post_row,
            )
            .optional()?;
        let r = match old {
            Some(p) if p.posted => Intent::Posted(p),
            Some(p) => Intent::Unfinished(p),
            None => {
                tx.execute(
                    "INSERT INTO posts (key, sink, target, message_id, payload, state, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, 'intent', ?6)",
                    params![key, sink, target, message_id, payload, now()],
                )?;
                Intent::New
            }
        };
        tx.commit()?;
        Ok(r)
    }

    /// Record that a post was made.
    pub fn posted(&mut self, key: &str, remote_id: Option<&str>) -> Result<(), StateError> {
        self.conn.execute(
            "UPDATE posts SET state = 'posted', remote_id = ?2, posted_at = ?3 WHERE key = ?1",
            params![key, remote_id, now()],
        )?;
        Ok(())
    }

    /// Every intent an earlier run did not finish, oldest first.
    pub fn unfinished(&self) -> Result<Vec<Post>, StateError> {
        let mut st = self.conn.prepare(
            "SELECT key, sink, target, message_id, payload, state, remote_id
             FROM posts WHERE state = 'intent' ORDER BY created_at, key",
        )?;
        let rows = st
            .query_map([], Store::post_row)?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// Record a maintainer's answer (`ignore <what>`, `ack`) to a series;
    /// false when it was recorded before.
    pub fn record_command(
        &mut self,
        key: &str,
        message_id: &str,
        by: &str,
        command: &str,
    ) -> Result<bool, StateError> {
        let n = self.conn.execute(
            "INSERT OR IGNORE INTO commands (series_key, message_id, by, command, at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![key, message_id, by, command, now()],
        )?;
        Ok(n > 0)
    }

    /// The answers recorded for a series: (command, by), oldest first.
    pub fn commands(&self, key: &str) -> Result<Vec<(String, String)>, StateError> {
        let mut st = self.conn.prepare(
            "SELECT command, by FROM commands WHERE series_key = ?1 ORDER BY at, message_id",
        )?;
        let rows = st
            .query_map([key], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// Every fingerprint an earlier version of a series was reviewed with.
    pub fn earlier_fingerprints(
        &self,
        key: &str,
        version: u32,
    ) -> Result<std::collections::BTreeSet<String>, StateError> {
        let mut st = self.conn.prepare(
            "SELECT DISTINCT f.fingerprint FROM findings f
             JOIN reviews r ON r.id = f.review_id JOIN series s ON s.id = r.series_id
             WHERE s.key = ?1 AND s.version < ?2",
        )?;
        let rows = st
            .query_map(params![key, version], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }

    /// Record a message as seen (its source: an input, an archive; the
    /// cursor there, if any); false when it was seen before.
    pub fn record_message(
        &mut self,
        message_id: &str,
        source: &str,
        cursor: Option<&str>,
    ) -> Result<bool, StateError> {
        let n = self.conn.execute(
            "INSERT OR IGNORE INTO messages (message_id, source, cursor, seen_at)
             VALUES (?1, ?2, ?3, ?4)",
            params![message_id, source, cursor, now()],
        )?;
        Ok(n > 0)
    }

    /// Whether a message was seen.
    pub fn seen(&self, message_id: &str) -> Result<bool, StateError> {
        Ok(self
            .conn
            .query_row(
                "SELECT 1 FROM messages WHERE message_id = ?1",
                [message_id],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }

    /// Queue the review of a pull request's head (a webhook delivery; once
    /// per delivery id, or per repository, number and head without one).
    /// Whether it was new.
    pub fn enqueue(
        &mut self,
        delivery: &str,
        repo: &str,
        number: u64,
        head: &str,
    ) -> Result<bool, StateError> {
        let id = if delivery.is_empty() {
            format!("{repo}#{number}@{head}")
        } else {
            delivery.to_string()
        };
        let n = self.conn.execute(
            "INSERT OR IGNORE INTO queue (delivery, repo, number, head, received_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![id, repo, number as i64, head, now()],
        )?;
        Ok(n > 0)
    }

    /// The queued reviews, oldest first.
    pub fn queued(&self) -> Result<Vec<Queued>, StateError> {
        let mut st = self.conn.prepare(
            "SELECT delivery, repo, number, head, attempts, last_error FROM queue
             WHERE state = 'queued' ORDER BY received_at, delivery",
        )?;
        let rows = st
            .query_map([], |r| {
                Ok(Queued {
                    delivery: r.get(0)?,
                    repo: r.get(1)?,
                    number: r.get::<_, i64>(2)? as u64,
                    head: r.get(3)?,
                    attempts: r.get::<_, i64>(4)? as u32,
                    last_error: r.get(5)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// Mark a queued review done.
    pub fn finish_queued(&mut self, delivery: &str) -> Result<(), StateError> {
        self.conn.execute(
            "UPDATE queue SET state = 'done', last_error = NULL WHERE delivery = ?1",
            [delivery],
        )?;
        Ok(())
    }

    /// Record a failed attempt at a queued review: it stays queued (tried
    /// again next round) until `max_attempts` have failed, then it is
    /// `failed: why` and left alone. Whether it was given up.
    pub fn fail_queued(
        &mut self,
        delivery: &str,
        why: &str,
        max_attempts: u32,
    ) -> Result<bool, StateError> {
        let gave_up: Option<bool> = self
            .conn
            .query_row(
                "UPDATE queue SET attempts = attempts + 1, last_error = ?2,
                     state = CASE WHEN attempts + 1 >= ?3 THEN 'failed: ' || ?2 ELSE state END
                 WHERE delivery = ?1 RETURNING state != 'queued'",
                params![delivery, why, max_attempts],
                |r| r.get(0),
            )
            .optional()?;
        Ok(gave_up.unwrap_or(false))
    }

    /// A watched source as the store has it (a new source: empty cursor).
    pub fn source(&self, name: &str) -> Result<SourceState, StateError> {
        let row = self
            .conn
            .query_row(
                "SELECT cursor, validators, rounds, last_round, failures, last_error, planned
                 FROM watch_sources WHERE name = ?1",
                [name],
                |r| {
                    Ok(SourceState {
                        name: name.to_string(),
                        cursor: r.get(0)?,
                        validators: r.get(1)?,
                        rounds: r.get::<_, i64>(2)? as u64,
                        last_round: r.get(3)?,
                        failures: r.get::<_, i64>(4)? as u32,
                        last_error: r.get(5)?,
                        planned: r.get::<_, i64>(6)? != 0,
                    })
                },
            )
            .optional()?;
        Ok(row.unwrap_or(SourceState {
            name: name.to_string(),
            cursor: "{}".into(),
            validators: "{}".into(),
            ..Default::default()
        }))
    }

    /// Every watched source the store knows.
    pub fn sources(&self) -> Result<Vec<SourceState>, StateError> {
        let mut st = self
            .conn
            .prepare("SELECT name FROM watch_sources ORDER BY name")?;
        let names = st
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        names.iter().map(|n| self.source(n)).collect()
    }

    /// Take in one round's new messages of a source and move its cursor, in
    /// one transaction: after a crash either both happened or neither.
    /// Messages already there (same Message-ID) are left as they are. How
    /// many were new.
    pub fn import(
        &mut self,
        source: &str,
        messages: &[(String, Vec<u8>)],
        received: i64,
        cursor: &str,
        validators: &str,
    ) -> Result<usize, StateError> {
        let tx = self.conn.transaction()?;
        let mut new = 0;
        {
            let mut ins = tx.prepare_cached(
                "INSERT OR IGNORE INTO inbox (source, message_id, received, raw)
                 VALUES (?1, ?2, ?3, ?4)",
            )?;
            for (id, raw) in messages {
                new += ins.execute(params![source, id, received, raw])?;
            }
        }
        // dirty: messages came that no finished plan has looked at yet
        tx.execute(
            "INSERT INTO watch_sources (name, cursor, validators, rounds, last_round, failures, dirty)
             VALUES (?1, ?2, ?3, 1, ?4, 0, ?5)
             ON CONFLICT (name) DO UPDATE SET cursor = ?2, validators = ?3,
                 rounds = rounds + 1, last_round = ?4, failures = 0, last_error = NULL,
                 dirty = max(dirty, ?5)",
            params![source, cursor, validators, received, (new > 0) as i64],
        )?;
        tx.commit()?;
        Ok(new)
    }

    /// Record a failed round of a source (its cursor stays).
    pub fn source_failed(&mut self, source: &str, why: &str) -> Result<u32, StateError> {
        self.conn.execute(
            "INSERT INTO watch_sources (name, failures, last_error, last_round)
             VALUES (?1, 1, ?2, ?3)
             ON CONFLICT (name) DO UPDATE SET failures = failures + 1, last_error = ?2,
                 last_round = ?3",
            params![source, why, now()],
        )?;
        self.event("error", source, why)?;
        Ok(self.source(source)?.failures)
    }

    /// How many messages a source has taken in.
    pub fn inbox_count(&self, source: &str) -> Result<u64, StateError> {
        let n: i64 = self.conn.query_row(
            "SELECT count(*) FROM inbox WHERE source = ?1",
            [source],
            |r| r.get(0),
        )?;
        Ok(n.max(0) as u64)
    }

    /// Every message of a source, in the order taken in: (Message-ID, when
    /// received, raw bytes), one at a time.
    pub fn each_message(
        &self,
        source: &str,
        mut f: impl FnMut(&str, i64, Vec<u8>),
    ) -> Result<(), StateError> {
        let mut st = self.conn.prepare_cached(
            "SELECT message_id, received, raw FROM inbox WHERE source = ?1 ORDER BY id",
        )?;
        let mut rows = st.query([source])?;
        while let Some(r) = rows.next()? {
            f(&r.get::<_, String>(0)?, r.get(1)?, r.get(2)?);
        }
        Ok(())
    }

    /// When each message of a source arrived: Message-ID -> time.
    pub fn arrivals(
        &self,
        source: &str,
    ) -> Result<std::collections::HashMap<String, i64>, StateError> {
        let mut st = self
            .conn
            .prepare_cached("SELECT message_id, received FROM inbox WHERE source = ?1")?;
        let rows = st
            .query_map([source], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }

    /// One message's raw bytes.
    pub fn message(&self, source: &str, message_id: &str) -> Result<Option<Vec<u8>>, StateError> {
        Ok(self
            .conn
            .query_row(
                "SELECT raw FROM inbox WHERE source = ?1 AND message_id = ?2",
                [source, message_id],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// The series of a source as last recorded, by anchor.
    pub fn watched(
        &self,
        source: &str,
    ) -> Result<std::collections::HashMap<String, Watched>, StateError> {
        let mut st = self.conn.prepare_cached(
            "SELECT anchor, series_key, version, title, author, parts, total, missing,
                    last_arrival, state, reviewed_parts, result, updated, attempts
             FROM watched WHERE source = ?1",
        )?;
        let rows = st
            .query_map([source], |r| {
                Ok(Watched {
                    source: source.to_string(),
                    anchor: r.get(0)?,
                    key: r.get(1)?,
                    version: r.get::<_, i64>(2)? as u32,
                    title: r.get(3)?,
                    author: r.get(4)?,
                    parts: r.get(5)?,
                    total: r.get::<_, i64>(6)? as u32,
                    missing: r.get(7)?,
                    last_arrival: r.get(8)?,
                    state: r.get(9)?,
                    reviewed_parts: r.get(10)?,
                    result: r.get(11)?,
                    updated: r.get(12)?,
                    attempts: r.get::<_, i64>(13)? as u32,
                })
            })?
            .map(|w| w.map(|w| (w.anchor.clone(), w)))
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }

    /// Whether a source has work: messages no finished plan has looked at
    /// (a round killed before its reviews were all recorded leaves them so),
    /// series waiting for parts, or a review to retry.
    pub fn has_pending(&self, source: &str) -> Result<bool, StateError> {
        let dirty = self
            .conn
            .query_row(
                "SELECT dirty FROM watch_sources WHERE name = ?1",
                [source],
                |r| r.get::<_, i64>(0),
            )
            .optional()?
            .unwrap_or(0);
        Ok(dirty != 0
            || self
                .conn
                .query_row(
                    "SELECT 1 FROM watched WHERE source = ?1 AND state IN ('waiting', 'failed') LIMIT 1",
                    [source],
                    |_| Ok(()),
                )
                .optional()?
                .is_some())
    }

    /// Every series of the source's messages has been planned and each
    /// review recorded: nothing left to look at until new messages come.
    pub fn source_planned(&mut self, source: &str) -> Result<(), StateError> {
        self.conn.execute(
            "UPDATE watch_sources SET dirty = 0, planned = 1 WHERE name = ?1",
            [source],
        )?;
        Ok(())
    }

    /// How many series of a source are in each state.
    pub fn watched_counts(
        &self,
        source: &str,
    ) -> Result<std::collections::BTreeMap<String, u64>, StateError> {
        let mut st = self.conn.prepare_cached(
            "SELECT state, count(*) FROM watched WHERE source = ?1 GROUP BY state",
        )?;
        let rows = st
            .query_map([source], |r| Ok((r.get(0)?, r.get::<_, i64>(1)? as u64)))?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }

    /// Record a followed series as it is now.
    pub fn set_watched(&mut self, w: &Watched) -> Result<(), StateError> {
        self.conn.execute(
            "INSERT INTO watched (source, anchor, series_key, version, title, author, parts,
                 total, missing, last_arrival, state, reviewed_parts, result, updated, attempts)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)
             ON CONFLICT (source, anchor) DO UPDATE SET series_key = ?3, version = ?4,
                 title = ?5, author = ?6, parts = ?7, total = ?8, missing = ?9,
                 last_arrival = ?10, state = ?11, reviewed_parts = ?12, result = ?13,
                 updated = ?14, attempts = ?15",
            params![
                w.source,
                w.anchor,
                w.key,
                w.version,
                w.title,
                w.author,
                w.parts,
                w.total,
                w.missing,
                w.last_arrival,
                w.state,
                w.reviewed_parts,
                w.result,
                w.updated,
                w.attempts
            ],
        )?;
        Ok(())
    }

    /// The findings of the latest review of one version of a series:
    /// (fingerprint, rule, severity, message); None when it was not reviewed.
    pub fn findings_of(
        &self,
        key: &str,
        version: u32,
    ) -> Result<Option<Vec<[String; 4]>>, StateError> {
        let review: Option<i64> = self
            .conn
            .query_row(
                "SELECT r.id FROM reviews r JOIN series s ON s.id = r.series_id
                 WHERE s.key = ?1 AND s.version = ?2 ORDER BY r.id DESC LIMIT 1",
                params![key, version],
                |r| r.get(0),
            )
            .optional()?;
        let Some(review) = review else {
            return Ok(None);
        };
        let mut st = self.conn.prepare_cached(
            "SELECT fingerprint, rule, severity, message FROM findings WHERE review_id = ?1
             ORDER BY fingerprint",
        )?;
        let rows = st
            .query_map([review], |r| {
                Ok([r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?])
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Some(rows))
    }

    /// The last digest recorded for a target (a maintainer's address, or
    /// `all`): (when, its snapshot as JSON).
    pub fn last_digest(&self, target: &str) -> Result<Option<(i64, String)>, StateError> {
        Ok(self
            .conn
            .query_row(
                "SELECT at, snapshot FROM digests WHERE target = ?1 ORDER BY id DESC LIMIT 1",
                [target],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?)
    }

    /// Record a digest made for a target.
    pub fn record_digest(
        &mut self,
        target: &str,
        at: i64,
        snapshot: &str,
    ) -> Result<(), StateError> {
        self.conn.execute(
            "INSERT INTO digests (target, at, snapshot) VALUES (?1, ?2, ?3)",
            params![target, at, snapshot],
        )?;
        Ok(())
    }

    /// Record something that happened (`info`, `warning`, `error`).
    pub fn event(&mut self, level: &str, source: &str, text: &str) -> Result<(), StateError> {
        self.conn.execute(
            "INSERT INTO events (at, level, source, text) VALUES (?1, ?2, ?3, ?4)",
            params![now(), level, source, text],
        )?;
        Ok(())
    }

    /// The latest events, newest first: (time, level, source, text).
    pub fn events(&self, limit: usize) -> Result<Vec<(i64, String, String, String)>, StateError> {
        let mut st = self
            .conn
            .prepare("SELECT at, level, source, text FROM events ORDER BY id DESC LIMIT ?1")?;
        let rows = st
            .query_map([limit as i64], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// Every followed series of every source, most recently changed first.
    pub fn all_watched(&self, limit: usize) -> Result<Vec<Watched>, StateError> {
        let mut st = self
            .conn
            .prepare("SELECT DISTINCT source FROM watched ORDER BY source")?;
        let sources = st
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        let mut all = Vec::new();
        for s in sources {
            all.extend(self.watched(&s)?.into_values());
        }
        all.sort_by(|a, b| (b.updated, &b.anchor).cmp(&(a.updated, &a.anchor)));
        all.truncate(limit);
        Ok(all)
    }

    /// The latest posts, newest first: (sink, target, Message-ID, posted, time).
    pub fn recent_posts(&self, limit: usize) -> Result<Vec<PostRow>, StateError> {
        let mut st = self.conn.prepare(
            "SELECT sink, target, message_id, state = 'posted', coalesce(posted_at, created_at)
             FROM posts ORDER BY coalesce(posted_at, created_at) DESC, key LIMIT ?1",
        )?;
        let rows = st
            .query_map([limit as i64], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// How many posts were made (all sinks).
    pub fn posted_count(&self) -> Result<u64, StateError> {
        let n: i64 = self.conn.query_row(
            "SELECT count(*) FROM posts WHERE state = 'posted'",
            [],
            |r| r.get(0),
        )?;
        Ok(n.max(0) as u64)
    }
}

/// An exclusive lock on a file next to the store (`flock`, released when
/// the file is closed or the process ends, however it ends): `wait` blocks
/// until it is free; otherwise Ok(None) when another process holds it.
pub fn lock(path: &Path, wait: bool) -> Result<Option<std::fs::File>, String> {
    use std::os::fd::AsRawFd;
    let f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let op = if wait {
        libc::LOCK_EX
    } else {
        libc::LOCK_EX | libc::LOCK_NB
    };
    loop {
        // SAFETY: flock on a descriptor this function owns
        if unsafe { libc::flock(f.as_raw_fd(), op) } == 0 {
            return Ok(Some(f));
        }
        let e = std::io::Error::last_os_error();
        match e.raw_os_error() {
            Some(libc::EINTR) => continue,
            Some(libc::EWOULDBLOCK) if !wait => return Ok(None),
            _ => return Err(format!("{}: {e}", path.display())),
        }
    }
}

/// The store's default path: `$XDG_STATE_HOME/patchbot/state.sqlite`, else
/// `~/.local/state/patchbot/state.sqlite` (None: no home).
pub fn default_path() -> Option<PathBuf> {
    let var = |n: &str| std::env::var_os(n).filter(|v| !v.is_empty());
    if let Some(d) = var("XDG_STATE_HOME").map(PathBuf::from) {
        if d.is_absolute() {
            return Some(d.join("patchbot/state.sqlite"));
        }
    }
    var("HOME").map(|h| PathBuf::from(h).join(".local/state/patchbot/state.sqlite"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_store_is_migrated_and_reopens() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sub/state.sqlite");
        let mut s = Store::open(&p).unwrap();
        assert_eq!(s.version().unwrap(), Store::schema_version());
        assert_eq!(
            s.intend("k", "email", "t", "<m>", b"x").unwrap(),
            Intent::New
        );
        drop(s);
        let mut s = Store::open(&p).unwrap();
        match s.intend("k", "email", "t", "<m>", b"x").unwrap() {
            Intent::Unfinished(p) => assert_eq!(p.payload, b"x"),
            other => panic!("{other:?}"),
        }
        s.posted("k", Some("r")).unwrap();
        assert!(s.record_message("<a@x>", "series.mbox", Some("3")).unwrap());
        assert!(!s.record_message("<a@x>", "other", None).unwrap());
        assert!(s.seen("<a@x>").unwrap() && !s.seen("<b@x>").unwrap());
        assert!(matches!(
            s.intend("k", "email", "t", "<m>", b"x").unwrap(),
            Intent::Posted(_)
        ));
        assert!(s.unfinished().unwrap().is_empty());
        assert_eq!(s.posted_count().unwrap(), 1);
    }

    /// A store as schema `version` left it, with `rows` inserted.
    fn old_store(p: &Path, version: usize, rows: &str) {
        let c = Connection::open(p).unwrap();
        c.execute_batch(&format!(
            "CREATE TABLE schema_version (version INTEGER NOT NULL);
             INSERT INTO schema_version VALUES ({version});
             {}
             {rows}",
            MIGRATIONS[..version].join("\n")
        ))
        .unwrap();
    }

    #[test]
    fn a_version_1_store_is_migrated_forward_keeping_its_rows() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("state.sqlite");
        // a store as the first schema left it
        old_store(
            &p,
            1,
            "INSERT INTO posts (key, sink, target, message_id, payload, state, created_at)
             VALUES ('k', 'outbox', 't', '<m>', x'00', 'posted', 0);",
        );
        let mut s = Store::open(&p).unwrap();
        assert_eq!(s.version().unwrap(), Store::schema_version());
        assert!(s.post("k").unwrap().unwrap().posted);
        assert!(s.record_command("key", "<r>", "m@x", "ack").unwrap());
        assert!(!s.record_command("key", "<r>", "m@x", "ack").unwrap());
        assert_eq!(s.commands("key").unwrap(), [("ack".into(), "m@x".into())]);
    }

    #[test]
    fn a_version_4_queue_keeps_its_reviews_and_counts_failures() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("state.sqlite");
        // a store as schema 4 left it, with one review queued
        old_store(
            &p,
            4,
            "INSERT INTO queue (delivery, repo, number, head, received_at)
             VALUES ('d', 'o/r', 7, 'abc', 0);",
        );
        let mut s = Store::open(&p).unwrap();
        assert_eq!(s.version().unwrap(), Store::schema_version());
        let q = s.queued().unwrap();
        assert_eq!(
            (q.len(), q[0].attempts, q[0].last_error.clone()),
            (1, 0, None)
        );
        assert!(!s.fail_queued("d", "boom", 2).unwrap());
        assert_eq!(s.queued().unwrap()[0].attempts, 1);
        assert_eq!(s.queued().unwrap()[0].last_error.as_deref(), Some("boom"));
        assert!(s.fail_queued("d", "boom again", 2).unwrap());
        assert!(s.queued().unwrap().is_empty());
        // an unknown delivery is no failure of anything
        assert!(!s.fail_queued("nope", "x", 1).unwrap());
    }

    #[test]
    fn a_store_from_a_newer_patchbot_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("state.sqlite");
        drop(Store::open(&p).unwrap());
        let c = Connection::open(&p).unwrap();
        c.execute("UPDATE schema_version SET version = 99", [])
            .unwrap();
        drop(c);
        let e = Store::open(&p).err().unwrap();
        assert!(matches!(e, StateError::TooNew { found: 99, .. }), "{e}");
    }

    #[test]
    fn a_file_that_is_not_a_database_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("state.sqlite");
        std::fs::write(&p, vec![b'x'; 4096]).unwrap();
        let e = Store::open(&p).err().unwrap();
        assert!(e.to_string().contains("state.sqlite"), "{e}");
        // and it is left as it was
        assert_eq!(std::fs::read(&p).unwrap(), vec![b'x'; 4096]);
    }

    #[test]
    fn previous_findings_come_from_the_newest_earlier_version() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("s.sqlite")).unwrap();
        let f = |fp: &'static str| StoredFinding {
            fingerprint: fp,
            rule: "r",
            severity: "note",
            message: "m",
        };
        let r = |version, findings| ReviewRecord {
            key: "k",
            version,
            title: "t",
            message_id: None,
            base: "b",
            rules: "rules",
            findings,
        };
        let (one, two) = ([f("a"), f("b")], [f("b")]);
        s.record_review(&r(1, &one)).unwrap();
        s.record_review(&r(2, &two)).unwrap();
        let (v, got) = s.previous_findings("k", 3).unwrap().unwrap();
        assert_eq!(v, 2);
        assert_eq!(got.len(), 1);
        assert_eq!(s.previous_findings("k", 2).unwrap().unwrap().1.len(), 2);
        assert!(s.previous_findings("k", 1).unwrap().is_none());
        assert!(s.previous_findings("other", 5).unwrap().is_none());
    }
}
