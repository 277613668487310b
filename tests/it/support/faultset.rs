//! A generated migration set whose side effects are countable, and the invariants a run over it
//! must leave behind ("exactly once"), shared by the `faults::` and `pgbouncer::` suites.
//!
//! File 000 creates `ledger(file text)`, deliberately without any constraint, so a statement
//! that runs twice leaves two rows. Every other file NNN is either
//! - transactional: `CREATE TABLE <p>_NNN …; INSERT INTO ledger VALUES ('NNN:1'); CREATE INDEX …`
//!   (all or nothing), or
//! - every `notx_every`-th file, `-- pgboot:no-transaction`: `'NNN:1'`,
//!   `CREATE INDEX CONCURRENTLY <p>_NNN_cic ON <p>_(NNN-1)`, `'NNN:2'`, `pg_sleep`, `'NNN:3'`,
//!   each statement committed on its own, so a run killed inside the file leaves it half applied
//!   (and a crash during the `CREATE INDEX CONCURRENTLY`, which has [`CIC_ROWS`] rows to index,
//!   leaves an INVALID index behind). It creates no table.

use std::time::{Duration, Instant};

use super::{query, sleep_ms};

/// Rows in the table each non-transactional file indexes.
pub const CIC_ROWS: u32 = 50_000;

pub struct FaultSet {
    /// (file name, contents), in order.
    pub files: Vec<(String, String)>,
    /// Table prefix: `f` gives f_001, f_002, …
    pub prefix: String,
    /// Versions of the `-- pgboot:no-transaction` files.
    pub notx: Vec<u32>,
}

impl FaultSet {
    /// `count` files (000 included); every `notx_every`-th one (from `notx_every`) is
    /// non-transactional and sleeps `sleep_s` seconds between its second and third marker.
    pub fn generate(count: u32, notx_every: u32, prefix: &str, sleep_s: f64) -> FaultSet {
        assert!(
            notx_every != 1,
            "a non-transactional file indexes the previous file's table"
        );
        let mut files = vec![(
            "000_ledger.sql".to_owned(),
            "CREATE TABLE ledger (file text NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp());\n\
             INSERT INTO ledger (file) VALUES ('000:1');\n"
                .to_owned(),
        )];
        let mut notx = Vec::new();
        for v in 1..count {
            let t = format!("{prefix}_{v:03}");
            if notx_every > 0 && v % notx_every == 0 {
                let prev = format!("{prefix}_{:03}", v - 1);
                notx.push(v);
                files.push((
                    format!("{v:03}_notx_{t}.sql"),
                    format!(
                        "-- pgboot:no-transaction\n\
                         INSERT INTO ledger (file) VALUES ('{v:03}:1');\n\
                         CREATE INDEX CONCURRENTLY {t}_cic ON {prev} (md5(v));\n\
                         INSERT INTO ledger (file) VALUES ('{v:03}:2');\n\
                         SELECT pg_sleep({sleep_s});\n\
                         INSERT INTO ledger (file) VALUES ('{v:03}:3');\n"
                    ),
                ));
            } else {
                // The table a non-transactional file indexes gets rows, so that its
                // CREATE INDEX CONCURRENTLY takes long enough for a kill to land in it.
                let rows = if notx_every > 0 && (v + 1) % notx_every == 0 {
                    format!(
                        "INSERT INTO {t} (v) SELECT md5(g::text) FROM generate_series(1, {CIC_ROWS}) g;\n"
                    )
                } else {
                    String::new()
                };
                files.push((
                    format!("{v:03}_{t}.sql"),
                    format!(
                        "CREATE TABLE {t} (id bigint GENERATED ALWAYS AS IDENTITY, v text);\n\
                         {rows}\
                         INSERT INTO ledger (file) VALUES ('{v:03}:1');\n\
                         CREATE INDEX {t}_v ON {t} (v);\n"
                    ),
                ));
            }
        }
        FaultSet {
            files,
            prefix: prefix.to_owned(),
            notx,
        }
    }

    pub fn count(&self) -> u32 {
        self.files.len() as u32
    }

    /// The migrations directory.
    pub fn dir(&self) -> tempfile::TempDir {
        let refs: Vec<(&str, &str)> = self
            .files
            .iter()
            .map(|(n, b)| (n.as_str(), b.as_str()))
            .collect();
        super::migrations(&refs)
    }

    /// The ledger markers file `v` writes.
    pub fn markers(&self, v: u32) -> Vec<String> {
        let n = if self.notx.contains(&v) { 3 } else { 1 };
        (1..=n).map(|i| format!("{v:03}:{i}")).collect()
    }

    /// The table file `v` creates (file 000 creates `ledger`; non-transactional files none).
    pub fn table(&self, v: u32) -> Option<String> {
        if v == 0 {
            Some("ledger".into())
        } else if self.notx.contains(&v) {
            None
        } else {
            Some(format!("{}_{v:03}", self.prefix))
        }
    }
}

/// Which invariants to hold a database to.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Expect {
    /// After a run that exited 0: every file applied, exactly once.
    Complete,
    /// After a killed run (or a crash), before the rerun: transactional files are all or
    /// nothing, nothing ran twice. Half-applied non-transactional files are allowed.
    Partial,
}

/// Checks the "exactly once" invariants on the database at `url` (a direct connection to the
/// server, never through a pooler) and returns every violation, one line each.
///
/// - history: at most one success row per file; `Complete`: every file has one;
/// - tables: a transactional file's table exists iff the file is in the history (`Complete`:
///   all exist);
/// - ledger: no marker twice; markers of a file in the history all present;
///   `Complete`: every marker exactly once;
/// - no INVALID index;
/// - no advisory lock and (with `backends`) no backend whose application_name starts with
///   `pgboot` left on the database, polled for up to `settle`: a killed client's backend needs
///   a moment to notice. Behind a pooler, idle server connections keep the last client's
///   application_name, so the pooler suites check locks only.
pub fn check(
    url: &str,
    set: &FaultSet,
    expect: Expect,
    settle: Duration,
    backends: bool,
) -> Vec<String> {
    let mut v = Vec::new();
    let rows = |sql: &str| query(url, sql);
    let has_history =
        !rows("SELECT 1 FROM pg_class WHERE oid = to_regclass('pgboot.schema_history')").is_empty();
    let mut success = vec![0i64; set.count() as usize];
    let mut failed_rows = Vec::new();
    if has_history {
        for r in rows(
            "SELECT version::text, count(*) FILTER (WHERE success)::text, count(*) FILTER (WHERE NOT success)::text \
             FROM pgboot.schema_history GROUP BY version",
        ) {
            let ver: usize = r[0].as_deref().unwrap().parse().unwrap();
            let ok: i64 = r[1].as_deref().unwrap().parse().unwrap();
            let bad: i64 = r[2].as_deref().unwrap().parse().unwrap();
            if ver < success.len() {
                success[ver] = ok;
            }
            if bad > 0 {
                failed_rows.push(ver);
            }
        }
    }
    if expect == Expect::Complete && !failed_rows.is_empty() {
        v.push(format!("history has failed rows for files {failed_rows:?}"));
    }
    let twice: Vec<usize> = (0..success.len()).filter(|&i| success[i] > 1).collect();
    if !twice.is_empty() {
        v.push(format!(
            "history: more than one success row for files {twice:?}"
        ));
    }
    let missing: Vec<usize> = (0..success.len()).filter(|&i| success[i] == 0).collect();
    if expect == Expect::Complete && !missing.is_empty() {
        v.push(format!(
            "history: {} of {} files have no success row (first: {:?})",
            missing.len(),
            success.len(),
            &missing[..missing.len().min(5)]
        ));
    }

    // Tables.
    let existing: std::collections::HashSet<String> = rows(&format!(
        "SELECT relname FROM pg_class WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace \
         AND (relname = 'ledger' OR relname LIKE '{}\\_%')",
        set.prefix
    ))
    .into_iter()
    .filter_map(|r| r.into_iter().next().flatten())
    .collect();
    let mut table_problems = Vec::new();
    for ver in 0..set.count() {
        let Some(table) = set.table(ver) else {
            continue;
        };
        let in_history = success[ver as usize] > 0;
        let exists = existing.contains(&table);
        if in_history && !exists {
            table_problems.push(format!("{table} missing though {ver:03} is in the history"));
        } else if !in_history && exists {
            table_problems.push(format!(
                "{table} exists though {ver:03} is not in the history"
            ));
        }
    }
    if !table_problems.is_empty() {
        v.push(format!(
            "tables: {} problems: {}",
            table_problems.len(),
            table_problems[..table_problems.len().min(5)].join("; ")
        ));
    }

    // Ledger.
    if existing.contains("ledger") {
        let counts: std::collections::HashMap<String, i64> =
            rows("SELECT file, count(*)::text FROM ledger GROUP BY file")
                .into_iter()
                .map(|r| {
                    (
                        r[0].clone().unwrap(),
                        r[1].as_deref().unwrap().parse().unwrap(),
                    )
                })
                .collect();
        let mut dup = Vec::new();
        let mut absent = Vec::new();
        for ver in 0..set.count() {
            for m in set.markers(ver) {
                let n = counts.get(&m).copied().unwrap_or(0);
                if n > 1 {
                    dup.push(format!("{m}×{n}"));
                } else if n == 0 && (expect == Expect::Complete || success[ver as usize] > 0) {
                    absent.push(m);
                }
            }
        }
        if !dup.is_empty() {
            v.push(format!(
                "ledger: {} statements ran more than once: {}",
                dup.len(),
                dup.join(" ")
            ));
        }
        if !absent.is_empty() {
            v.push(format!(
                "ledger: {} statements never ran: {}",
                absent.len(),
                absent[..absent.len().min(10)].join(" ")
            ));
        }
    } else if expect == Expect::Complete || success[0] > 0 {
        v.push("ledger table missing".into());
    }

    let invalid = rows(
        "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE NOT i.indisvalid",
    );
    if !invalid.is_empty() {
        let names: Vec<String> = invalid.into_iter().filter_map(|r| r[0].clone()).collect();
        v.push(format!("INVALID indexes left: {}", names.join(", ")));
    }

    if let Some(left) = leftovers(url, settle, backends) {
        v.push(left);
    }
    v
}

/// Advisory locks and (with `backends`) pgboot backends on this database, polled until none are
/// left or `settle` has passed; None when none are left.
pub fn leftovers(url: &str, settle: Duration, backends: bool) -> Option<String> {
    let started = Instant::now();
    loop {
        let r = query(
            url,
            "SELECT (SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' \
                     AND database = (SELECT oid FROM pg_database WHERE datname = current_database()))::text, \
                    (SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() \
                     AND application_name LIKE 'pgboot%' AND pid <> pg_backend_pid())::text, \
                    (SELECT string_agg(pid || ' ' || state || ': ' || left(query, 60), ' | ') FROM pg_stat_activity \
                     WHERE datname = current_database() AND application_name LIKE 'pgboot%' AND pid <> pg_backend_pid())",
        );
        let locks: i64 = r[0][0].as_deref().unwrap().parse().unwrap();
        let pgboots: i64 = r[0][1].as_deref().unwrap().parse().unwrap();
        let pgboots = if backends { pgboots } else { 0 };
        if locks == 0 && pgboots == 0 {
            return None;
        }
        if started.elapsed() >= settle {
            return Some(format!(
                "left on the server after {settle:?}: {locks} advisory lock(s), {pgboots} pgboot backend(s) [{}]",
                if backends { r[0][2].as_deref().unwrap_or("") } else { "" }
            ));
        }
        sleep_ms(100);
    }
}

/// A tiny xorshift64* PRNG: reproducible kill schedules without a new crate.
pub struct XorShift(u64);

impl XorShift {
    pub fn new(seed: u64) -> XorShift {
        XorShift(seed.max(1))
    }
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    /// Uniform in [lo, hi).
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo).max(1)
    }
}

/// `PGBOOT_FAULT_SEED`, or one derived from the clock: one seed per test binary, printed by
/// the callers.
pub fn seed() -> u64 {
    static SEED: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *SEED.get_or_init(|| match std::env::var("PGBOOT_FAULT_SEED") {
        Ok(s) => s
            .trim()
            .parse()
            .expect("PGBOOT_FAULT_SEED is an unsigned integer"),
        Err(_) => {
            let d = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap();
            (d.as_secs() ^ (u64::from(d.subsec_nanos()) << 20) ^ u64::from(std::process::id()))
                % 1_000_000_007
        }
    })
}
