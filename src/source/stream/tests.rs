//! A streamed file has the checksum the in-memory path gives it, and the summary `plan` shows.

use super::*;
use proptest::prelude::*;

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    let f = std::fs::File::create(&path).unwrap();
    match Compression::split(name).1 {
        Compression::None => {
            let mut f = f;
            f.write_all(bytes).unwrap();
        }
        Compression::Gzip => {
            let mut e = flate2::write::GzEncoder::new(f, flate2::Compression::fast());
            e.write_all(bytes).unwrap();
            e.finish().unwrap();
        }
        Compression::Xz => {
            let mut out = Vec::new();
            lzma_rs::xz_compress(&mut &bytes[..], &mut out).unwrap();
            let mut f = f;
            f.write_all(&out).unwrap();
        }
        Compression::Zstd => {
            let out = ruzstd::encoding::compress_to_vec(
                bytes,
                ruzstd::encoding::CompressionLevel::Fastest,
            );
            let mut f = f;
            f.write_all(&out).unwrap();
        }
    }
    path
}

/// The checksum the in-memory path computes.
fn in_memory(bytes: &[u8]) -> String {
    crate::source::checksum(&crate::source::normalize(
        std::str::from_utf8(bytes).unwrap(),
    ))
}

fn streamed(path: &Path) -> (String, u64) {
    let mut ev = Events::open(path).unwrap();
    while ev.next_event().unwrap().is_some() {}
    (ev.checksum(), ev.bytes())
}

#[test]
fn checksums_agree_with_bom_crlf_and_lone_cr() {
    let dir = tempfile::tempdir().unwrap();
    for (i, text) in [
        &b"\xef\xbb\xbfSELECT 1;\r\nSELECT 2;\r\n"[..],
        b"SELECT 1;\rSELECT 2;\r",
        b"a\r\r\nb\n\rc",
        b"",
        b"\n",
        b"COPY t FROM stdin;\r\n1\r\n\\.\r\n",
    ]
    .into_iter()
    .enumerate()
    {
        for name in [format!("00{i}_x.sql"), format!("00{i}_x.sql.gz")] {
            let path = write(dir.path(), &name, text);
            let (sum, bytes) = streamed(&path);
            assert_eq!(sum, in_memory(text), "{name}: {text:?}");
            let norm = crate::source::normalize(std::str::from_utf8(text).unwrap());
            assert_eq!(bytes, norm.len() as u64, "{name}");
        }
    }
}

#[test]
fn checksums_agree_across_blocks_long_lines_and_crlf_at_block_edges() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("\u{feff}");
    for i in 0..30_000 {
        // Line lengths that put CR, LF and CRLF on every side of the 64 KiB block edges.
        text.push_str(&"ü".repeat(i % 7));
        text.push_str(["\r\n", "\r", "\n"][i % 3]);
    }
    text.push_str(&"x".repeat(150_000));
    text.push_str("\r\nend\r");
    for name in ["001_x.sql", "001_x.sql.gz", "001_x.sql.xz", "001_x.sql.zst"] {
        let path = write(dir.path(), name, text.as_bytes());
        let (sum, bytes) = streamed(&path);
        assert_eq!(sum, in_memory(text.as_bytes()), "{name}");
        assert_eq!(bytes, crate::source::normalize(&text).len() as u64);
        let norm = crate::source::normalize(&text);
        let line = 1 + norm[..norm.find('x').unwrap()].matches('\n').count();
        let (first, around) = lines_around(&path, line, 1).unwrap();
        assert_eq!(first, line - 1);
        assert!(
            around.ends_with(&format!("{}\n", "x".repeat(150_000))),
            "{name}"
        );
    }
}

#[test]
fn a_large_file_is_summarised_and_a_small_one_read() {
    let dir = tempfile::tempdir().unwrap();
    let mut dump = String::from("\\restrict k\nSET x = 1;\nCOPY t (a) FROM stdin;\n");
    for i in 0..5000 {
        dump.push_str(&format!("{i}\n"));
    }
    dump.push_str("\\.\n\\echo done\nCOPY u FROM stdin;\nlast");
    let path = write(dir.path(), "001_dump.sql.gz", dump.as_bytes());
    let Loaded::Streamed { checksum, summary } =
        load(&path, Compression::Gzip, 1000, true).unwrap()
    else {
        panic!("not streamed");
    };
    assert_eq!(checksum, in_memory(dump.as_bytes()));
    assert_eq!(summary.copy_blocks, [(3, 5000), (5006, 1)]);
    assert_eq!(
        summary.ignored,
        [("restrict".to_string(), 1), ("echo".to_string(), 5005)]
    );
    assert!(matches!(
        load(&path, Compression::Gzip, 1 << 20, true).unwrap(),
        Loaded::Bytes(b) if b == dump.as_bytes()
    ));
}

#[test]
fn what_the_in_memory_path_handles_falls_back() {
    let dir = tempfile::tempdir().unwrap();
    let filler = "SELECT 1;\n".repeat(200);
    for tail in [
        "\\i other.sql\n",
        "\\set x 1\n",
        "SELECT :x;\n",
        "\\connect other\n",
        "VACUUM;\n",
        "BEGIN;\nCOMMIT;\n",
        "COPY t TO STDOUT;\n",
        "SELECT 'unterminated;\n",
        "\\copy t from 'x.csv'\n",
    ] {
        let text = format!("{filler}{tail}{filler}");
        let path = write(dir.path(), "001_x.sql", text.as_bytes());
        assert!(scan(&path).unwrap().is_none(), "{tail}");
        assert!(matches!(
            load(&path, Compression::None, 100, true).unwrap(),
            Loaded::Bytes(_)
        ));
    }
    let path = write(
        dir.path(),
        "001_x.sql",
        format!("-- pgboot:no-transaction\n{filler}").as_bytes(),
    );
    assert!(scan(&path).unwrap().is_none());
}

#[test]
fn invalid_utf8_and_corrupt_data_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "001_x.sql", b"SELECT 1;\nSELECT '\xff';\n");
    let e = load(&path, Compression::None, 4, true)
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.contains("not valid UTF-8 at byte offset 18 (line 2)"),
        "{e}"
    );
    let gz = write(
        dir.path(),
        "002_x.sql.gz",
        "SELECT 1;\n".repeat(1000).as_bytes(),
    );
    let bytes = std::fs::read(&gz).unwrap();
    std::fs::write(&gz, &bytes[..bytes.len() / 2]).unwrap();
    let e = load(&gz, Compression::Gzip, 100, true)
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.contains("not valid gzip data: the data ends early"),
        "{e}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn streamed_and_in_memory_checksums_agree(parts in proptest::collection::vec(prop_oneof![
        Just("\r\n"), Just("\r"), Just("\n"), Just("x"), Just("ü"), Just("\u{feff}"), Just(";"),
    ], 0..200)) {
        let text: String = parts.concat();
        let dir = tempfile::tempdir().unwrap();
        for name in ["001_x.sql", "001_x.sql.gz"] {
            let path = write(dir.path(), name, text.as_bytes());
            prop_assert_eq!(streamed(&path).0, in_memory(text.as_bytes()));
        }
    }
}

#[test]
fn a_small_regular_file_is_read_in_one_call_as_the_general_way_reads_it() {
    let dir = tempfile::tempdir().unwrap();
    let text = "CREATE TABLE a (id int);\r\nSELECT 1;\n".repeat(50);
    let path = write(dir.path(), "001_x.sql", text.as_bytes());
    let bytes = |regular| match load(&path, Compression::None, 1 << 20, regular).unwrap() {
        Loaded::Bytes(b) => b,
        Loaded::Streamed { .. } => panic!("streamed"),
    };
    assert_eq!(bytes(true), text.as_bytes());
    assert_eq!(bytes(false), text.as_bytes());
    // Above the threshold it is streamed, small or not.
    assert!(matches!(
        load(&path, Compression::None, 100, true).unwrap(),
        Loaded::Streamed { .. }
    ));
    // A file of exactly the buffer's size, and a larger one, are read whole too.
    for n in [super::SMALL, super::SMALL + 1, 3 * super::SMALL] {
        let big = "x".repeat(n - 1) + "\n";
        let p = write(dir.path(), "002_y.sql", big.as_bytes());
        match load(&p, Compression::None, 1 << 20, true).unwrap() {
            Loaded::Bytes(b) => assert_eq!(b.len(), n),
            Loaded::Streamed { .. } => panic!("streamed"),
        }
    }
    let empty = write(dir.path(), "003_z.sql", b"");
    assert!(matches!(
        load(&empty, Compression::None, 1 << 20, true).unwrap(),
        Loaded::Bytes(b) if b.is_empty()
    ));
}
