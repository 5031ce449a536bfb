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

    /// The queued reviews, oldest first: (delivery, repo, number, head).
    pub fn queued(&self) -> Result<Vec<(String, String, u64, String)>, StateError> {
        let mut st = self.conn.prepare(
            "SELECT delivery, repo, number, head FROM queue WHERE state = 'queued'
             ORDER BY received_at, delivery",
        )?;
        let rows = st
            .query_map([], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get::<_, i64>(2)? as u64, r.get(3)?))
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

    #[test]
    fn a_version_1_store_is_migrated_forward_keeping_its_rows() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("state.sqlite");
        // a store as the first schema left it
        let c = Connection::open(&p).unwrap();
        c.execute_batch(&format!(
            "CREATE TABLE schema_version (version INTEGER NOT NULL);
             INSERT INTO schema_version VALUES (1);
             {}
             INSERT INTO posts (key, sink, target, message_id, payload, state, created_at)
             VALUES ('k', 'outbox', 't', '<m>', x'00', 'posted', 0);",
            MIGRATIONS[0]
        ))
        .unwrap();
        drop(c);
        let mut s = Store::open(&p).unwrap();
        assert_eq!(s.version().unwrap(), Store::schema_version());
        assert!(s.post("k").unwrap().unwrap().posted);
        assert!(s.record_command("key", "<r>", "m@x", "ack").unwrap());
        assert!(!s.record_command("key", "<r>", "m@x", "ack").unwrap());
        assert_eq!(s.commands("key").unwrap(), [("ack".into(), "m@x".into())]);
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
