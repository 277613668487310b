//! The checksums other tools store, recomputed from a file's bytes, so `adopt` can tell which
//! files changed since that tool applied them. Pure.
//!
//! - **sqlx:** SHA-384 of the file's bytes as read (`_sqlx_migrations.checksum`, bytea).
//! - **Flyway:** CRC-32 over the UTF-8 bytes of each line without its line terminator (`\n`,
//!   `\r\n` or `\r`, as Java's `BufferedReader.readLine` splits), a BOM stripped from the first
//!   line, stored as a signed 32-bit integer. Line endings and blank lines do not count.
//! - **refinery:** SipHash-1-3 (keys 0, 0) of the migration's name (the part after `__`), its
//!   version (`i32`) and its text, hashed as Rust's `Hash` does, stored as a decimal `u64`.

use std::hash::{Hash, Hasher};

use sha2::{Digest, Sha384};

/// A checksum as another tool recorded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recorded {
    /// sqlx: lower-case hex of the SHA-384.
    Sha384(String),
    /// Flyway: the signed CRC-32.
    FlywayCrc32(i32),
    /// refinery: the SipHash as a decimal number.
    Refinery(u64),
}

impl Recorded {
    /// The checksum of `bytes` (a file named `name`, version `version`) in the same algorithm;
    /// None when the file cannot have been read by that tool (refinery: a version beyond i32).
    pub fn of(&self, bytes: &[u8], refinery_name: &str, version: i64) -> Option<Recorded> {
        Some(match self {
            Recorded::Sha384(_) => Recorded::Sha384(sha384_hex(bytes)),
            Recorded::FlywayCrc32(_) => Recorded::FlywayCrc32(flyway_crc32(bytes)),
            Recorded::Refinery(_) => Recorded::Refinery(refinery(
                refinery_name,
                i32::try_from(version).ok()?,
                &String::from_utf8_lossy(bytes),
            )),
        })
    }

    /// As the report shows it: `sha384:<hex>`, `crc32:<n>`, `siphash:<n>`.
    pub fn show(&self) -> String {
        match self {
            Recorded::Sha384(h) => format!("sha384:{h}"),
            Recorded::FlywayCrc32(n) => format!("crc32:{n}"),
            Recorded::Refinery(n) => format!("siphash:{n}"),
        }
    }
}

pub fn sha384_hex(bytes: &[u8]) -> String {
    Sha384::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Flyway's checksum of a SQL migration: every byte but CR and LF (line terminators are never
/// fed, and an empty line feeds nothing), after a UTF-8 BOM at the start.
pub fn flyway_crc32(bytes: &[u8]) -> i32 {
    let body = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
    let mut h = crc32fast::Hasher::new();
    for line in body.split(|b| *b == b'\n' || *b == b'\r') {
        h.update(line);
    }
    h.finalize() as i32
}

/// refinery's checksum: `name`, `version`, `sql` through `Hash` into SipHasher13::new().
pub fn refinery(name: &str, version: i32, sql: &str) -> u64 {
    let mut h = siphasher::sip::SipHasher13::new();
    name.hash(&mut h);
    version.hash(&mut h);
    sql.hash(&mut h);
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlx_is_sha384_of_the_bytes() {
        // `printf 'SELECT 1;\n' | sha384sum`
        assert_eq!(
            sha384_hex(b"SELECT 1;\n"),
            "24454095d8d7876ca8e842f34296ca645c83e0f7b50f048c99db4b2ff4da659267afc4ef3e994f3d74e18c741165d931"
        );
        assert_eq!(sha384_hex(b"").len(), 96);
        assert_ne!(
            sha384_hex(b"a\n"),
            sha384_hex(b"a\r\n"),
            "sqlx hashes the raw bytes"
        );
    }

    #[test]
    fn flyway_ignores_line_endings_blank_lines_and_a_bom() {
        let lf = flyway_crc32(b"CREATE TABLE t (id int);\nINSERT INTO t VALUES (1);\n");
        assert_eq!(
            lf,
            flyway_crc32(b"CREATE TABLE t (id int);\r\nINSERT INTO t VALUES (1);\r\n")
        );
        assert_eq!(
            lf,
            flyway_crc32(b"\xef\xbb\xbfCREATE TABLE t (id int);\rINSERT INTO t VALUES (1);")
        );
        assert_eq!(
            lf,
            flyway_crc32(b"CREATE TABLE t (id int);\n\n\nINSERT INTO t VALUES (1);")
        );
        assert_ne!(
            lf,
            flyway_crc32(b"CREATE TABLE t (id int);\nINSERT INTO t VALUES (2);\n")
        );
        // CRC-32 of "CREATE TABLE t (id int);INSERT INTO t VALUES (1);" as Java's CRC32 gives it,
        // cast to int: the same as crc32fast over the joined lines.
        let joined = crc32fast::hash(b"CREATE TABLE t (id int);INSERT INTO t VALUES (1);");
        assert_eq!(lf, joined as i32);
        // Values from Java: java.util.zip.CRC32 fed each BufferedReader.readLine() of the file
        // (UTF-8, BOM dropped from the first line), as Flyway's ChecksumCalculator does, cast
        // to int (openjdk 17).
        assert_eq!(lf, 169406234);
        assert_eq!(
            flyway_crc32(b"\xef\xbb\xbf-- caf\xc3\xa9\r\nCREATE TABLE t (id int);\r\n\r\nINSERT INTO t VALUES (1);\rSELECT 1;\n"),
            -31459180
        );
        // A known value: CRC-32("123456789") = 0xCBF43926, negative as a Java int.
        assert_eq!(flyway_crc32(b"123456789\n"), 0xCBF4_3926_u32 as i32);
        assert!(flyway_crc32(b"123456789") < 0);
    }

    #[test]
    fn refinery_hashes_name_version_and_text() {
        let a = refinery("initial", 1, "CREATE TABLE t (id int);\n");
        assert_eq!(a, refinery("initial", 1, "CREATE TABLE t (id int);\n"));
        assert_ne!(a, refinery("initial", 2, "CREATE TABLE t (id int);\n"));
        assert_ne!(a, refinery("other", 1, "CREATE TABLE t (id int);\n"));
        // The str hash is prefix-free (its bytes, then 0xff): moving text between name and
        // sql changes the checksum.
        assert_ne!(refinery("ab", 1, "c"), refinery("a", 1, "bc"));
    }

    #[test]
    fn recomputed_in_the_recorded_algorithm() {
        let r = Recorded::FlywayCrc32(0).of(b"123456789", "x", 1);
        assert_eq!(r, Some(Recorded::FlywayCrc32(0xCBF4_3926_u32 as i32)));
        assert_eq!(Recorded::Refinery(0).of(b"x", "x", i64::MAX), None);
        assert_eq!(
            Recorded::Sha384(String::new())
                .of(b"x", "x", 1)
                .unwrap()
                .show(),
            format!("sha384:{}", sha384_hex(b"x"))
        );
    }
}
