use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::Figment;

use super::redact::{kv_pairs, scrub};
use super::settings::{extract, figment, keys, ConfigFile, SECRETS};
use super::target::{check_url, take_tls_params, TlsParams};
use super::*;
use crate::cli::{Global, LockMode};
use crate::error::Error;

const SECRET: &str = "Pw-7f3a9c-never-print-me";

fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn load_with(file: Option<&Path>, e: &[(&str, &str)], cli: Global) -> Result<(Settings, Figment)> {
    let cf = match file {
        Some(p) => ConfigFile::new(Some(p.to_owned())),
        None => ConfigFile {
            path: PathBuf::from("/nonexistent/pgboot.toml"),
            required: false,
        },
    };
    let fig = figment(&cf, &env(e), &cli)?;
    Ok((extract(&fig)?, fig))
}

fn source(fig: &Figment, key: &str) -> String {
    fig.find_metadata(key)
        .map(|m| m.name.to_string())
        .unwrap_or_default()
}

fn config_error(r: Result<(Settings, Figment)>) -> String {
    match r {
        Err(Error::Config(m)) => m,
        Err(e) => panic!("not a configuration error: {e}"),
        Ok((s, _)) => panic!("accepted: {s:?}"),
    }
}

fn toml_file(dir: &tempfile::TempDir, text: &str) -> PathBuf {
    let path = dir.path().join("pgboot.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn defaults() {
    let (s, fig) = load_with(None, &[], Global::default()).unwrap();
    assert_eq!(s.migrations, PathBuf::from("./migrations"));
    assert_eq!(s.wait_timeout, Dur(Duration::from_secs(60)));
    assert_eq!(s.history_table, "pgboot.schema_history");
    assert_eq!(s.log_format, LogFormat::Auto);
    assert!(s.lock_timeout.is_none() && s.password.is_none());
    assert_eq!(source(&fig, "wait_timeout"), "default");
    assert_eq!(source(&fig, "lock_timeout"), "", "unset, not a default");
}

#[test]
fn file_then_env_then_flag() {
    let dir = tempfile::tempdir().unwrap();
    let path = toml_file(
        &dir,
        "migrations = \"from-file\"\nwait_timeout = \"10s\"\nlock_timeout = 7\nport = 6000\n",
    );

    let (s, _) = load_with(Some(&path), &[], Global::default()).unwrap();
    assert_eq!(s.migrations, PathBuf::from("from-file"));
    assert_eq!(s.lock_timeout, Some(Dur(Duration::from_secs(7))));
    assert_eq!(s.port, Some(6000));

    let e = [
        ("PGBOOT_MIGRATIONS", "from-env"),
        ("PGBOOT_WAIT_TIMEOUT", "500ms"),
    ];
    let (s, fig) = load_with(Some(&path), &e, Global::default()).unwrap();
    assert_eq!(s.migrations, PathBuf::from("from-env"));
    assert_eq!(s.wait_timeout, Dur(Duration::from_millis(500)));
    assert_eq!(
        source(&fig, "migrations"),
        "environment variable PGBOOT_MIGRATIONS"
    );
    assert_eq!(s.port, Some(6000), "untouched keys keep the file's value");

    let cli = Global {
        migrations: Some("from-flag".into()),
        lock_timeout: Some("2m".into()),
        log_format: Some(LogFormat::Json),
        config: Some("ignored: not a setting".into()),
        ..Default::default()
    };
    let (s, fig) = load_with(Some(&path), &e, cli).unwrap();
    assert_eq!(s.migrations, PathBuf::from("from-flag"));
    assert_eq!(s.lock_timeout, Some(Dur(Duration::from_secs(120))));
    assert_eq!(s.log_format, LogFormat::Json);
    assert_eq!(s.wait_timeout, Dur(Duration::from_millis(500)));
    assert_eq!(source(&fig, "migrations"), "command line");
}

#[test]
fn env_families_in_order() {
    let e = [
        ("POSTGRES_USER", "pg_image_user"),
        ("POSTGRES_DB", "imagedb"),
        ("PGUSER", "libpq_user"),
    ];
    let (s, fig) = load_with(None, &e, Global::default()).unwrap();
    assert_eq!(s.user.as_deref(), Some("libpq_user"));
    assert_eq!(s.dbname.as_deref(), Some("imagedb"));
    assert_eq!(source(&fig, "dbname"), "environment variable POSTGRES_DB");

    let e = [
        ("DATABASE_URL", "postgres://a@h/db1"),
        ("PGBOOT_DATABASE_URL", "postgres://b@h/db2"),
    ];
    let (s, _) = load_with(None, &e, Global::default()).unwrap();
    assert_eq!(s.database_url.as_deref(), Some("postgres://b@h/db2"));
}

#[test]
fn file_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let pw = dir.path().join("pw");
    std::fs::write(&pw, "s3cret-from-file\n").unwrap();
    let pwp = pw.to_str().unwrap();
    let (s, fig) = load_with(None, &[("POSTGRES_PASSWORD_FILE", pwp)], Global::default()).unwrap();
    assert_eq!(s.password.as_deref(), Some("s3cret-from-file"));
    assert!(source(&fig, "password").contains("POSTGRES_PASSWORD_FILE"));

    let url = dir.path().join("url");
    std::fs::write(&url, "postgres://u:p@h/d\r\n").unwrap();
    let (s, _) = load_with(
        None,
        &[("PGBOOT_DATABASE_URL_FILE", url.to_str().unwrap())],
        Global::default(),
    )
    .unwrap();
    assert_eq!(s.database_url.as_deref(), Some("postgres://u:p@h/d"));

    let m = config_error(load_with(
        None,
        &[("PGPASSWORD", "x"), ("PGPASSWORD_FILE", pwp)],
        Global::default(),
    ));
    assert!(m.contains("both PGPASSWORD and PGPASSWORD_FILE"), "{m}");
    let m = config_error(load_with(
        None,
        &[("PGBOOT_PASSWORD", "x"), ("PGBOOT_PASSWORD_FILE", pwp)],
        Global::default(),
    ));
    assert!(
        m.contains("both PGBOOT_PASSWORD and PGBOOT_PASSWORD_FILE"),
        "{m}"
    );
    let m = config_error(load_with(
        None,
        &[("DATABASE_URL_FILE", "/nonexistent/secret")],
        Global::default(),
    ));
    assert!(m.contains("DATABASE_URL_FILE=/nonexistent/secret"), "{m}");
}

#[test]
fn bad_values_name_the_setting_and_source() {
    let m = config_error(load_with(
        None,
        &[("PGBOOT_WAIT_TIMEOUT", "soon")],
        Global::default(),
    ));
    assert!(
        m.contains("wait_timeout") && m.contains("PGBOOT_WAIT_TIMEOUT") && m.contains("30s"),
        "{m}"
    );
    let m = config_error(load_with(None, &[("PGPORT", "http")], Global::default()));
    assert!(m.contains("PGPORT"), "{m}");
    let m = config_error(load_with(
        None,
        &[("PGBOOT_MIGRATION", "x")],
        Global::default(),
    ));
    assert!(m.contains("PGBOOT_MIGRATION"), "{m}");
    let m = config_error(load_with(
        None,
        &[("PGBOOT_HISTORY_TABLE", "bad name;")],
        Global::default(),
    ));
    assert!(m.contains("history_table"), "{m}");

    let dir = tempfile::tempdir().unwrap();
    let path = toml_file(&dir, "migratons = \"x\"\n");
    let m = config_error(load_with(Some(&path), &[], Global::default()));
    assert!(m.contains("migratons") && m.contains("pgboot.toml"), "{m}");
}

#[test]
fn durations() {
    assert_eq!("30".parse::<Dur>().unwrap().0, Duration::from_secs(30));
    assert_eq!("1.5".parse::<Dur>().unwrap().0, Duration::from_millis(1500));
    assert_eq!(
        "500ms".parse::<Dur>().unwrap().0,
        Duration::from_millis(500)
    );
    assert_eq!("2m".parse::<Dur>().unwrap().0, Duration::from_secs(120));
    assert_eq!(" 0 ".parse::<Dur>().unwrap().0, Duration::ZERO);
    for (bad, why) in [
        ("-1", "negative"),
        ("-0.5", "negative"),
        ("-1s", "negative"),
        ("-inf", "negative"),
        ("NaN", "not a number"),
        ("nan", "not a number"),
        ("1e300", "too large"),
        ("1e20", "too large"),
        ("inf", "too large"),
        ("99999999999999999999", "too large"),
        ("", "empty"),
        ("   ", "empty"),
    ] {
        let e = bad.parse::<Dur>().unwrap_err();
        assert!(e.contains(why) && e.contains("30s"), "{bad:?}: {e}");
    }
    assert!("100000000000000000000000s".parse::<Dur>().is_err());
    let long = "9".repeat(400);
    let e = long.parse::<Dur>().unwrap_err();
    assert!(e.len() < 200, "long values are cut short: {e}");
}

/// The duration settings, and a flag for those that have one.
const DURATIONS: &[(&str, Option<&str>)] = &[
    ("wait_timeout", Some("wait_timeout")),
    ("lock_timeout", Some("lock_timeout")),
    ("statement_timeout", Some("statement_timeout")),
    ("session_lock_timeout", Some("session_lock_timeout")),
    ("connect_timeout", None),
];

fn flag(key: &str, value: &str) -> Global {
    let v = Some(value.to_owned());
    match key {
        "wait_timeout" => Global {
            wait_timeout: v,
            ..Default::default()
        },
        "lock_timeout" => Global {
            lock_timeout: v,
            ..Default::default()
        },
        "statement_timeout" => Global {
            statement_timeout: v,
            ..Default::default()
        },
        "session_lock_timeout" => Global {
            session_lock_timeout: v,
            ..Default::default()
        },
        _ => unreachable!(),
    }
}

#[test]
fn bad_durations_are_config_errors_naming_the_setting_in_every_layer() {
    let dir = tempfile::tempdir().unwrap();
    for (key, has_flag) in DURATIONS {
        let var = format!("PGBOOT_{}", key.to_ascii_uppercase());
        for (value, toml) in [
            ("1e300", "1e300"),
            ("1e20", "1e20"),
            ("-1", "-1"),
            ("-2.5", "-2.5"),
            ("NaN", "nan"),
            ("", "\"\""),
        ] {
            let m = config_error(load_with(None, &[(&var, value)], Global::default()));
            assert!(m.contains(key) && m.contains(&var), "{var}={value}: {m}");

            let path = toml_file(&dir, &format!("{key} = {toml}\n"));
            let m = config_error(load_with(Some(&path), &[], Global::default()));
            assert!(
                m.contains(key) && m.contains("pgboot.toml"),
                "{key} = {toml}: {m}"
            );

            if has_flag.is_some() {
                let m = config_error(load_with(None, &[], flag(key, value)));
                let f = format!("--{}", key.replace('_', "-"));
                assert!(m.contains(key) && m.contains(&f), "{f} {value}: {m}");
            }
        }
    }
    let m = config_error(load_with(
        None,
        &[("PGCONNECT_TIMEOUT", "1e300")],
        Global::default(),
    ));
    assert!(m.contains("connect_timeout") && m.contains("PGCONNECT_TIMEOUT"));
}

#[test]
fn postgres_millisecond_limits() {
    for key in ["statement_timeout", "session_lock_timeout"] {
        let m = config_error(load_with(None, &[], flag(key, "25d")));
        assert!(
            m.contains(key) && m.contains("2147483647ms") && m.contains("--"),
            "{m}"
        );
        let m = config_error(load_with(None, &[], flag(key, "500us")));
        assert!(m.contains(key) && m.contains("1ms"), "{m}");
        let (s, _) = load_with(None, &[], flag(key, "24d")).unwrap();
        assert_eq!(
            s.entries()
                .iter()
                .find(|(k, _)| *k == key)
                .unwrap()
                .1
                .as_deref(),
            Some("24days")
        );
        load_with(None, &[], flag(key, "0")).unwrap();
    }
    // pgboot's own lock wait has no such limit.
    let (s, _) = load_with(None, &[], flag("lock_timeout", "1000d")).unwrap();
    assert_eq!(s.lock_timeout.unwrap().0, Duration::from_secs(86_400_000));
}

#[test]
fn toml_syntax_errors_do_not_echo_the_file() {
    let dir = tempfile::tempdir().unwrap();
    for text in [
        format!("host = \"db\"\npassword = \"{SECRET}\n"),
        format!("password = {SECRET}\n"),
        format!("password = \"{SECRET}\\q\"\n"),
        format!("password = \"a\"\npassword = \"{SECRET}\"\n"),
        format!("[password\n{SECRET}"),
    ] {
        let path = toml_file(&dir, &text);
        let m = config_error(load_with(Some(&path), &[], Global::default()));
        assert!(!m.contains(SECRET), "{m}");
        assert!(
            m.contains("pgboot.toml:") && m.contains("not valid TOML"),
            "{m}"
        );
    }
    let path = toml_file(&dir, &format!("host = \"db\"\npassword = \"{SECRET}\n"));
    let m = config_error(load_with(Some(&path), &[], Global::default()));
    assert!(m.contains("pgboot.toml:2:"), "line and column: {m}");

    // A well-formed file with a password of the wrong type: the value is not echoed either.
    let path = toml_file(&dir, "password = 73519284\n");
    let m = config_error(load_with(Some(&path), &[], Global::default()));
    assert!(
        m.contains("setting password") && !m.contains("73519284"),
        "{m}"
    );
}

#[test]
fn connection_from_url_and_parts() {
    let s = Settings {
        database_url: Some("postgres://app:pw@db.example:6543/crm?sslmode=verify-full&sslrootcert=/ca.pem&connect_timeout=3".into()),
        password: Some("ignored".into()),
        ..Default::default()
    };
    let t = s.connection().unwrap();
    assert_eq!(t.sslmode, SslMode::VerifyFull);
    assert_eq!(t.sslrootcert, Some(PathBuf::from("/ca.pem")));
    assert_eq!(t.pg.get_password(), Some(&b"pw"[..]));
    assert_eq!(
        t.to_string(),
        "postgres://app@db.example:6543/crm?sslmode=verify-full"
    );

    let s = Settings {
        host: Some("db".into()),
        user: Some("u".into()),
        password: Some("secret".into()),
        ..Default::default()
    };
    let t = s.connection().unwrap();
    assert_eq!(
        t.dbname(),
        "u",
        "dbname defaults to the user, as libpq does"
    );
    assert_eq!(t.to_string(), "postgres://u@db:5432/u?sslmode=prefer");
    assert!(t.pg.get_application_name().unwrap().starts_with("pgboot@"));
    assert!(!t.to_string().contains("secret"));

    let s = Settings {
        database_url: Some("postgres://u:topsecret@h/d?sslmode=sometimes".into()),
        ..Default::default()
    };
    let m = s.connection().err().unwrap().to_string();
    assert!(m.contains("sslmode") && !m.contains("topsecret"), "{m}");
}

#[test]
fn key_value_strings_keep_quoted_values_and_lose_tls_params() {
    let conn = "host=db  sslmode = 'verify-full' password='a  b\\'c' sslrootcert='/c a.pem'";
    let (rest, params) = take_tls_params(conn);
    assert_eq!(
        params,
        TlsParams {
            sslmode: Some("verify-full".into()),
            sslrootcert: Some("/c a.pem".into()),
        }
    );
    let s = Settings {
        database_url: Some(conn.into()),
        ..Default::default()
    };
    let t = s.connection().unwrap();
    assert_eq!(t.pg.get_password(), Some(&b"a  b'c"[..]), "{rest}");
    assert_eq!(t.sslmode, SslMode::VerifyFull);
    assert_eq!(t.sslrootcert, Some(PathBuf::from("/c a.pem")));

    let (pairs, trouble) = kv_pairs("a=1 b = '2 3' c");
    assert_eq!(pairs.len(), 2);
    assert_eq!(trouble, Some(14));
    assert_eq!(pairs[1].unquoted("a=1 b = '2 3' c"), "2 3");
}

#[test]
fn redaction() {
    for (input, want) in [
        (
            "postgres://u:p%40ss@h:5/d?x=1",
            "postgres://u:<redacted>@h:5/d?x=1",
        ),
        ("postgres://u@h/d", "postgres://u@h/d"),
        (
            "postgres://h/d?user=u&password=zz",
            "postgres://h/d?user=u&password=<redacted>",
        ),
        (
            "postgres://h/d?pass%77ord=zz&x=1",
            "postgres://h/d?pass%77ord=<redacted>&x=1",
        ),
        (
            "postgres://h/d?password=zz&yy",
            "postgres://h/d?password=<redacted>",
        ),
        ("postgres://u:p@ss@h/d", "postgres://u:<redacted>@h/d"),
        ("postgres://u:p@@host/d", "postgres://u:<redacted>@host/d"),
        ("postgres://u:p/q?r@h/d", "postgres://u:<redacted>@h/d"),
        (
            "postgres://u:p@h/d?application_name=me@there",
            "postgres://u:<redacted>@h/d?application_name=me@there",
        ),
        ("postgres:/u:pw@h/d", "postgres:<redacted>@h/d"),
        (
            "host=h password=zz user=u",
            "host=h password=<redacted> user=u",
        ),
        (
            "host=h password = 'z z' user=u",
            "host=h password = <redacted> user=u",
        ),
        (
            "host=127.0.0.1 password='x SECRET' port=abc",
            "host=127.0.0.1 password=<redacted> port=abc",
        ),
        (
            "host=127.0.0.1 password='x SECRET port=abc",
            "host=127.0.0.1 password=<redacted>",
        ),
        (
            "host=127.0.0.1 password=x SECRET port=abc",
            "host=127.0.0.1 password=<redacted>",
        ),
        (
            "host=127.0.0.1 password=x SECRET=y port=5",
            "host=127.0.0.1 password=<redacted>",
        ),
        ("host=h sslpassword=zz", "host=h sslpassword=<redacted>"),
        ("PASSWORD=zz", "PASSWORD=<redacted>"),
    ] {
        assert_eq!(redact_url(input), want, "{input}");
    }
}

#[test]
fn scrubbed_parser_messages() {
    let conn = "host=h password=x SECRET=1";
    assert_eq!(
        scrub("unknown option `SECRET`", conn),
        "unknown option `<redacted>`"
    );
    assert_eq!(
        scrub(
            "invalid value for option `port`",
            "host=h password=zz port=x"
        ),
        "invalid value for option `port`"
    );
}

#[test]
fn urls_tokio_postgres_would_misread_are_errors() {
    for url in [
        format!("postgres://u:{SECRET}@@host/db"),
        format!("postgres://u:{SECRET}@ss@host/db"),
        format!("postgres://u:{SECRET}/x@host/db"),
        format!("postgresql://host/db?password={SECRET}&application_name=a@b"),
    ] {
        let m = match check_url(&url) {
            Err(Error::Config(m)) => m,
            other => panic!("{url}: {other:?}"),
        };
        assert!(m.contains("invalid database URL") && m.contains('@'), "{m}");
        assert!(!m.contains(SECRET), "{m}");
        let s = Settings {
            database_url: Some(url.clone()),
            ..Default::default()
        };
        let m = s.connection().err().unwrap().to_string();
        assert!(!m.contains(SECRET), "{m}");
    }
    check_url("postgres://u:p%40ss@h/d?application_name=me@there").unwrap();
    check_url("host=h password=p@@ss").unwrap();
}

#[test]
fn connection_errors_never_show_the_password() {
    for url in [
        format!("host=127.0.0.1 password='x {SECRET}' port=abc"),
        format!("host=127.0.0.1 password='x {SECRET} port=abc"),
        format!("host=127.0.0.1 password=x {SECRET}=1"),
        format!("host=127.0.0.1 password=x {SECRET}"),
        format!("postgres://u:{SECRET}@h:port/d"),
        format!("postgres://u:{}@h:port/d", SECRET.replace('-', "%2D")),
        format!("postgres://u@h/d?password={SECRET}&sslmode=nope"),
        format!("postgres://u@h/d?password={SECRET}&x"),
        format!("postgres:/u:{SECRET}@h/d"),
        format!("postgres://u:{SECRET}@h/d?sslmode=maybe"),
    ] {
        let s = Settings {
            database_url: Some(url.clone()),
            ..Default::default()
        };
        let m = match s.connection() {
            Err(Error::Config(m)) => m,
            Err(e) => panic!("{url}: not a config error: {e}"),
            Ok(_) => panic!("{url}: accepted"),
        };
        assert!(!m.contains(SECRET), "{m}");
        let shown = s.entries();
        assert!(!format!("{shown:?}").contains(SECRET), "{shown:?}");
    }
}

#[test]
fn the_settings_are_listed_once() {
    let keys = keys();
    assert_eq!(keys.len(), 21);
    assert_eq!(keys[0], "database_url");
    assert_eq!(keys[16], "history_table");
    assert_eq!(keys[17], "lock_mode");
    assert_eq!(keys[18], "sync_every_file");
    assert_eq!(keys[19], "vars");
    assert_eq!(keys[20], "seeds");
    let v = serde_json::to_value(Settings::default()).unwrap();
    for k in v.as_object().unwrap().keys() {
        assert!(keys.contains(&k.as_str()), "{k}");
    }
    // Every flag, foreign variable and secret names a setting.
    let flags = serde_json::to_value(Global {
        database_url: Some(String::new()),
        migrations: Some(PathBuf::new()),
        wait_timeout: Some(String::new()),
        lock_timeout: Some(String::new()),
        statement_timeout: Some(String::new()),
        session_lock_timeout: Some(String::new()),
        log_format: Some(LogFormat::Text),
        history_table: Some(String::new()),
        lock_mode: Some(LockMode::Transaction),
        sync_every_file: true,
        var: vec![("x".into(), "1".into())],
        config: Some(PathBuf::from("x")),
        seeds: Some(PathBuf::new()),
    })
    .unwrap();
    let flags = flags.as_object().unwrap();
    assert_eq!(flags.len(), 12, "config is not a setting: {flags:?}");
    for k in flags.keys() {
        assert!(keys.contains(&k.as_str()), "flag {k}");
    }
    for (var, k) in super::env::FOREIGN_ENV {
        assert!(keys.contains(k), "{var}");
    }
    for (k, _) in SECRETS {
        assert!(keys.contains(k), "{k}");
    }
    // entries() follows keys(), secrets redacted.
    let s = Settings {
        database_url: Some("postgres://u:zz@h/d".into()),
        password: Some("zz".into()),
        port: Some(6543),
        sslmode: Some(SslMode::VerifyCa),
        connect_timeout: Some(Dur(Duration::from_millis(1500))),
        ..Default::default()
    };
    let entries = s.entries();
    let names: Vec<&str> = entries.iter().map(|(k, _)| *k).collect();
    assert_eq!(names, keys);
    let get = |k: &str| entries.iter().find(|(n, _)| *n == k).unwrap().1.clone();
    assert_eq!(
        get("database_url").as_deref(),
        Some("postgres://u:<redacted>@h/d")
    );
    assert_eq!(get("password").as_deref(), Some("<redacted>"));
    assert_eq!(get("port").as_deref(), Some("6543"));
    assert_eq!(get("sslmode").as_deref(), Some("verify-ca"));
    assert_eq!(get("connect_timeout").as_deref(), Some("1s 500ms"));
    assert_eq!(get("migrations").as_deref(), Some("./migrations"));
    assert_eq!(get("wait_timeout").as_deref(), Some("1m"));
    assert_eq!(get("log_format").as_deref(), Some("auto"));
    assert_eq!(get("lock_timeout"), None);
}

#[test]
fn psql_vars_merge_name_by_name_file_then_env_then_flag() {
    let dir = tempfile::tempdir().unwrap();
    let file = toml_file(
        &dir,
        "[vars]\nfrom_file = \"f\"\nboth = \"file\"\nall = \"file\"\n",
    );
    let cli = Global {
        var: vec![
            ("all".into(), "first flag".into()),
            ("all".into(), "flag".into()),
            ("only_flag".into(), "x=y".into()),
        ],
        ..Global::default()
    };
    let (s, fig) = load_with(
        Some(&file),
        &[("PGBOOT_VAR_both", "env"), ("PGBOOT_VAR_all", "env")],
        cli,
    )
    .unwrap();
    let want: BTreeMap<String, String> = [
        ("all", "flag"),
        ("both", "env"),
        ("from_file", "f"),
        ("only_flag", "x=y"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    assert_eq!(s.vars, want);
    assert_eq!(
        source(&fig, "vars.both"),
        "environment variable PGBOOT_VAR_both"
    );
    assert_eq!(source(&fig, "vars.all"), "command line");

    let e = config_error(load_with(
        None,
        &[("PGBOOT_VAR_a-b", "1")],
        Global::default(),
    ));
    assert!(e.contains("psql variable name \"a-b\""), "{e}");
    assert!(e.contains("PGBOOT_VAR_a-b"), "{e}");
}

#[test]
fn sync_every_file_is_off_by_default_and_set_by_file_env_or_flag() {
    let dir = tempfile::tempdir().unwrap();
    let (s, _) = load_with(None, &[], Global::default()).unwrap();
    assert!(!s.sync_every_file);
    let file = toml_file(&dir, "sync_every_file = true\n");
    let (s, fig) = load_with(Some(&file), &[], Global::default()).unwrap();
    assert!(s.sync_every_file);
    assert_eq!(source(&fig, "sync_every_file"), "TOML file");
    for (value, want) in [("1", true), ("on", true), ("false", false), ("No", false)] {
        let (s, _) = load_with(
            Some(&file),
            &[("PGBOOT_SYNC_EVERY_FILE", value)],
            Global::default(),
        )
        .unwrap();
        assert_eq!(s.sync_every_file, want, "{value}");
    }
    // An absent flag does not override the layers below it; a given one sets it.
    let off = [("PGBOOT_SYNC_EVERY_FILE", "false")];
    let cli = Global {
        sync_every_file: true,
        ..Default::default()
    };
    let (s, fig) = load_with(None, &off, cli).unwrap();
    assert!(s.sync_every_file);
    assert_eq!(source(&fig, "sync_every_file"), "command line");
    let e = config_error(load_with(
        None,
        &[("PGBOOT_SYNC_EVERY_FILE", "sometimes")],
        Global::default(),
    ));
    assert!(e.contains("sync_every_file"), "{e}");
    assert!(e.contains("PGBOOT_SYNC_EVERY_FILE"), "{e}");
    assert!(e.contains("use true or false"), "{e}");
}
