//! Waiting, connection errors and their exit codes, TLS, configuration layers and secrets.

use crate::support::*;

use std::process::Stdio;
use std::time::{Duration, Instant};

#[test]
fn start_before_the_server_is_up_then_succeed() {
    let c = Cluster::init();
    let dir = migrations(&[("001_a.sql", "CREATE TABLE waited (id int);")]);
    let child = pgboot_cmd()
        .env("DATABASE_URL", c.url("postgres"))
        .env("PGBOOT_MIGRATIONS", dir.path())
        .env("PGBOOT_WAIT_TIMEOUT", "60s")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    sleep_ms(1500);
    c.start();
    let r: Run = child.wait_with_output().unwrap().into();
    c.stop();
    assert_eq!(r.code, 0, "{}", r.all());
    let waits = r.stderr.matches("waiting for PostgreSQL").count();
    assert!(
        (1..=4).contains(&waits),
        "a failed attempt must be logged when its reason changes, not every try ({waits}): {}",
        r.stderr
    );
    assert!(r.stderr.contains("applied 1"), "{}", r.stderr);
}

#[test]
fn wait_command_exits_0_once_a_query_succeeds() {
    let c = cluster();
    let r: Run = pgboot_cmd()
        .env("DATABASE_URL", c.url("postgres"))
        .arg("wait")
        .output()
        .unwrap()
        .into();
    assert_eq!(r.code, 0, "{}", r.all());
}

#[test]
fn bad_password_exits_5_fast_and_never_prints_it() {
    let c = cluster();
    let wrong = "Wrong-pw-0d5e-never-print-me";
    let dir = migrations(&[("001_a.sql", "SELECT 1;")]);
    let started = Instant::now();
    let r: Run = pgboot_cmd()
        .env(
            "DATABASE_URL",
            format!(
                "postgres://postgres:{wrong}@127.0.0.1:{}/postgres?sslmode=disable",
                c.port
            ),
        )
        .env("PGBOOT_MIGRATIONS", dir.path())
        .output()
        .unwrap()
        .into();
    assert_eq!(r.code, 5, "{}", r.all());
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "took {:?}",
        started.elapsed()
    );
    // "authentication failed", 28P01.
    let _s = snap::settings().bind_to_scope();
    insta::assert_snapshot!("bad_password", r.stderr);
    assert!(!r.all().contains(wrong), "the password leaked: {}", r.all());
}

#[test]
fn missing_database_exits_5_and_names_it() {
    let c = cluster();
    let r: Run = pgboot_cmd()
        .env("DATABASE_URL", c.url("no_such_db"))
        .arg("wait")
        .output()
        .unwrap()
        .into();
    assert_eq!(r.code, 5, "{}", r.all());
    // `"no_such_db" does not exist`.
    let _s = snap::settings().bind_to_scope();
    insta::assert_snapshot!("missing_database", r.stderr);
}

#[test]
fn no_server_exits_3_after_the_wait_timeout() {
    let port = free_port();
    let started = Instant::now();
    let r: Run = pgboot_cmd()
        .env(
            "DATABASE_URL",
            format!("postgres://postgres:{PASSWORD}@127.0.0.1:{port}/postgres?sslmode=disable"),
        )
        .args(["wait", "--wait-timeout", "1s"])
        .output()
        .unwrap()
        .into();
    assert_eq!(r.code, 3, "{}", r.all());
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    // "not ready after".
    let _s = snap::settings().bind_to_scope();
    insta::assert_snapshot!("no_server", r.stderr);
    assert!(!r.all().contains(PASSWORD));
}

#[test]
fn unresolvable_host_is_transient() {
    let r: Run = pgboot_cmd()
        .env("PGHOST", "db.does-not-resolve.invalid")
        .env("PGPASSWORD", PASSWORD)
        .args(["wait", "--wait-timeout", "1500ms"])
        .output()
        .unwrap()
        .into();
    assert_eq!(
        r.code,
        3,
        "an unresolvable name must be waited on, not fatal: {}",
        r.all()
    );
}

#[test]
fn password_never_appears_in_any_output() {
    let c = cluster();
    let db = c.create_db("secret");
    let ok = migrations(&[("001_a.sql", "CREATE TABLE a (id int);")]);
    let bad = migrations(&[("001_a.sql", "CREATE TABLEE a (id int);")]);
    let mut outputs: Vec<Run> = vec![
        pgboot(&db.url, ok.path(), &[]),
        pgboot(&db.url, ok.path(), &["status"]),
        pgboot(&db.url, ok.path(), &["status", "--json"]),
        pgboot(&db.url, ok.path(), &["config"]),
        pgboot(&db.url, ok.path(), &["config", "--json"]),
        pgboot(&db.url, ok.path(), &["--log-format", "json", "validate"]),
        pgboot(&c.create_db("secret_bad").url, bad.path(), &[]),
        pgboot(&format!("{}&sslmode=nonsense", db.url), ok.path(), &[]),
        pgboot(
            &db.url.replace("127.0.0.1", "127.0.0.1:notaport"),
            ok.path(),
            &[],
        ),
    ];
    outputs.push(
        pgboot_cmd()
            .env("PGHOST", "127.0.0.1")
            .env("PGPORT", c.port.to_string())
            .env("POSTGRES_PASSWORD", PASSWORD)
            .env("PGBOOT_MIGRATIONS", ok.path())
            .args(["config"])
            .output()
            .unwrap()
            .into(),
    );
    for r in &outputs {
        assert!(!r.all().contains(PASSWORD), "password leaked:\n{}", r.all());
    }
    assert!(
        outputs[3].stdout.contains("<redacted>"),
        "{}",
        outputs[3].stdout
    );
    assert_eq!(outputs[7].code, 2, "{}", outputs[7].all());
    assert!(
        outputs[9].stdout.contains("<redacted>") && outputs[9].stdout.contains("POSTGRES_PASSWORD"),
        "{}",
        outputs[9].stdout
    );
}

#[test]
fn config_layers_file_env_flag_and_file_secrets() {
    let c = cluster();
    let work = tempfile::tempdir().unwrap();
    std::fs::write(
        work.path().join("pgboot.toml"),
        "migrations = \"from-file\"\nwait_timeout = \"7s\"\nlock_timeout = \"9s\"\n",
    )
    .unwrap();
    let cfg = |env: &[(&str, &str)], args: &[&str]| -> serde_json::Value {
        let mut cmd = pgboot_cmd();
        cmd.current_dir(work.path())
            .args(["config", "--json"])
            .args(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let r = run(&mut cmd);
        assert_eq!(r.code, 0, "{}", r.all());
        serde_json::from_str::<serde_json::Value>(&r.stdout).unwrap()
    };
    let _s = snap::settings().bind_to_scope();
    // migrations "from-file" from [TMP]/pgboot.toml, wait_timeout 7s, lock_timeout 9s.
    insta::assert_json_snapshot!("config_json_file", cfg(&[], &[]));
    // migrations "from-env" from "environment variable PGBOOT_MIGRATIONS"; lock_timeout
    // keeps the file's 9s.
    let v = cfg(&[("PGBOOT_MIGRATIONS", "from-env")], &[]);
    insta::assert_json_snapshot!("config_json_env", v);
    let v = cfg(
        &[("PGBOOT_MIGRATIONS", "from-env")],
        &["--migrations", "from-flag"],
    );
    // migrations "from-flag" from "command line".
    insta::assert_json_snapshot!("config_json_flag", v);

    // Secrets from files, as Docker and Kubernetes mount them.
    let secrets = tempfile::tempdir().unwrap();
    let pw = secrets.path().join("pw");
    std::fs::write(&pw, format!("{PASSWORD}\n")).unwrap();
    let db = c.create_db("files");
    let dir = migrations(&[("001_a.sql", "CREATE TABLE from_secret (id int);")]);
    let r: Run = pgboot_cmd()
        .env("PGHOST", "127.0.0.1")
        .env("PGPORT", c.port.to_string())
        .env("POSTGRES_USER", "postgres")
        .env("POSTGRES_DB", &db.name)
        .env("POSTGRES_PASSWORD_FILE", &pw)
        .env("PGSSLMODE", "disable")
        .env("PGBOOT_MIGRATIONS", dir.path())
        .output()
        .unwrap()
        .into();
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(
        db.one("SELECT to_regclass('from_secret')::text").as_deref(),
        Some("from_secret")
    );

    let url = secrets.path().join("url");
    std::fs::write(&url, format!("{}\n", db.url)).unwrap();
    let r: Run = pgboot_cmd()
        .env("DATABASE_URL_FILE", &url)
        .arg("wait")
        .output()
        .unwrap()
        .into();
    assert_eq!(r.code, 0, "{}", r.all());

    let r: Run = pgboot_cmd()
        .env("PGPASSWORD", "x")
        .env("PGPASSWORD_FILE", &pw)
        .arg("wait")
        .output()
        .unwrap()
        .into();
    assert_eq!(r.code, 2, "{}", r.all());
    insta::assert_snapshot!("password_and_password_file", r.stderr);

    let r: Run = pgboot_cmd()
        .env("PGBOOT_WAIT_TIMEOUT", "soon")
        .arg("wait")
        .output()
        .unwrap()
        .into();
    assert_eq!(r.code, 2, "{}", r.all());
    insta::assert_snapshot!("invalid_wait_timeout", r.stderr);
}

#[test]
fn usage_errors_exit_2_and_help_lists_exit_codes() {
    let r: Run = pgboot_cmd().arg("--no-such-flag").output().unwrap().into();
    assert_eq!(r.code, 2, "{}", r.all());
    let r: Run = pgboot_cmd().arg("--help").output().unwrap().into();
    assert_eq!(r.code, 0);
    for code in ["130", "143", "history and files disagree", "lock"] {
        assert!(r.stdout.contains(code), "--help lacks {code}: {}", r.stdout);
    }
}

mod tls {
    use super::*;
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, SanType};

    struct Pki {
        ca_pem: String,
        cert_pem: String,
        key_pem: String,
    }

    fn pki(names: &[&str], ip: bool) -> Pki {
        let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name
            .push(DnType::CommonName, "pgboot test CA");
        let ca_key = KeyPair::generate().unwrap();
        let ca_cert = ca.self_signed(&ca_key).unwrap();
        let mut leaf =
            CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>())
                .unwrap();
        if ip {
            leaf.subject_alt_names
                .push(SanType::IpAddress("127.0.0.1".parse().unwrap()));
        }
        leaf.distinguished_name.push(DnType::CommonName, names[0]);
        let key = KeyPair::generate().unwrap();
        let cert = leaf.signed_by(&key, &ca_cert, &ca_key).unwrap();
        Pki {
            ca_pem: ca_cert.pem(),
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        }
    }

    fn tls_cluster(p: &Pki) -> Cluster {
        let c = Cluster::init_with(&[
            "ssl = on",
            "ssl_cert_file = 'server.crt'",
            "ssl_key_file = 'server.key'",
        ]);
        let data = c.data();
        std::fs::write(data.join("server.crt"), &p.cert_pem).unwrap();
        std::fs::write(data.join("server.key"), &p.key_pem).unwrap();
        let _ = std::process::Command::new("chown")
            .args(["nobody:nogroup"])
            .arg(data.join("server.crt"))
            .arg(data.join("server.key"))
            .status();
        let _ = std::process::Command::new("chmod")
            .args(["600"])
            .arg(data.join("server.key"))
            .status();
        c.start();
        c
    }

    fn run(
        c: &Cluster,
        host: &str,
        mode: &str,
        ca: Option<&std::path::Path>,
        dir: &std::path::Path,
    ) -> Run {
        let mut cmd = pgboot_cmd();
        cmd.env("PGHOST", host)
            .env("PGPORT", c.port.to_string())
            .env("PGUSER", "postgres")
            .env("PGPASSWORD", PASSWORD)
            .env("PGDATABASE", "postgres")
            .env("PGSSLMODE", mode)
            .env("PGBOOT_MIGRATIONS", dir)
            .env("PGBOOT_WAIT_TIMEOUT", "5s");
        if let Some(ca) = ca {
            cmd.env("PGSSLROOTCERT", ca);
        }
        cmd.output().unwrap().into()
    }

    #[test]
    fn verify_full_against_a_private_ca() {
        let p = pki(&["localhost"], true);
        let c = tls_cluster(&p);
        let files = tempfile::tempdir().unwrap();
        let ca = files.path().join("ca.pem");
        std::fs::write(&ca, &p.ca_pem).unwrap();
        let dir = migrations(&[(
            "001_tls.sql",
            "CREATE TABLE tls_check AS SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid();",
        )]);

        let r = run(&c, "localhost", "verify-full", Some(&ca), dir.path());
        assert_eq!(r.code, 0, "{}", r.all());
        let url = format!(
            "postgres://postgres:{PASSWORD}@127.0.0.1:{}/postgres?sslmode=disable",
            c.port
        );
        assert_eq!(
            query(&url, "SELECT ssl::text FROM tls_check")[0][0].as_deref(),
            Some("true"),
            "the migration connection was not encrypted"
        );

        // A CA that did not sign the server certificate: permanent, exit 5, fast.
        let other = pki(&["localhost"], true);
        let wrong_ca = files.path().join("wrong.pem");
        std::fs::write(&wrong_ca, &other.ca_pem).unwrap();
        let started = Instant::now();
        let r = run(&c, "127.0.0.1", "verify-full", Some(&wrong_ca), dir.path());
        assert_eq!(r.code, 5, "{}", r.all());
        assert!(started.elapsed() < Duration::from_secs(3));
        let _s = snap::settings().bind_to_scope();
        insta::assert_snapshot!("tls_unknown_ca", r.stderr);

        // A missing CA file is a TLS configuration error naming the file.
        let r = run(
            &c,
            "127.0.0.1",
            "verify-full",
            Some(&files.path().join("nope.pem")),
            dir.path(),
        );
        assert_eq!(r.code, 5, "{}", r.all());
        insta::assert_snapshot!("tls_missing_ca_file", r.stderr);
        c.stop();
    }

    #[test]
    fn verify_ca_ignores_the_name_verify_full_does_not_require_skips_checks() {
        let p = pki(&["db.internal"], false);
        let c = tls_cluster(&p);
        let files = tempfile::tempdir().unwrap();
        let ca = files.path().join("ca.pem");
        std::fs::write(&ca, &p.ca_pem).unwrap();
        let dir = migrations(&[("001_a.sql", "SELECT 1;")]);
        let r = run(&c, "127.0.0.1", "verify-full", Some(&ca), dir.path());
        assert_eq!(
            r.code,
            5,
            "host name mismatch must fail verify-full: {}",
            r.all()
        );
        let r = run(&c, "127.0.0.1", "verify-ca", Some(&ca), dir.path());
        assert_eq!(r.code, 0, "{}", r.all());
        let r = run(&c, "127.0.0.1", "require", None, dir.path());
        assert_eq!(r.code, 0, "{}", r.all());
        c.stop();
    }
}
