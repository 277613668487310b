//! Configuration errors from the real binary: exit 2, a message naming the setting, and never
//! the password. No PostgreSQL needed: each run stops before connecting.

use std::path::Path;

use crate::support::{pgboot_cmd, Run, PASSWORD};

/// Which layer a value comes from.
#[derive(Clone, Copy, Debug)]
enum Layer {
    Flag,
    Env,
    File,
}

/// `pgboot <args>` with `env`, in a scratch working directory (so no stray pgboot.toml counts).
fn run(dir: &Path, env: &[(&str, &str)], args: &[&str]) -> Run {
    let mut cmd = pgboot_cmd();
    cmd.current_dir(dir).args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap().into()
}

/// The duration settings, and whether each has a flag.
const DURATIONS: &[(&str, bool)] = &[
    ("wait_timeout", true),
    ("lock_timeout", true),
    ("statement_timeout", true),
    ("session_lock_timeout", true),
    ("connect_timeout", false),
];

/// `pgboot wait` with `key = value` set through `layer`.
fn with_setting(dir: &Path, layer: Layer, key: &str, value: &str) -> Run {
    let flag = format!("--{}", key.replace('_', "-"));
    let var = format!("PGBOOT_{}", key.to_ascii_uppercase());
    let config = dir.join("pgboot.toml");
    let config = config.to_str().unwrap();
    // A guard, so that a value wrongly accepted cannot wait a minute for a server.
    let mut args = vec!["wait"];
    if key != "wait_timeout" {
        args.extend(["--wait-timeout", "2s"]);
    }
    match layer {
        Layer::Flag => {
            let arg = format!("{flag}={value}");
            args.push(&arg);
            run(dir, &[], &args)
        }
        Layer::Env => run(dir, &[(&var, value)], &args),
        Layer::File => {
            let toml_value = match value {
                "NaN" => "nan".to_owned(),
                "" => "\"\"".to_owned(),
                v if v.parse::<f64>().is_ok() => v.to_owned(),
                v => format!("{v:?}"),
            };
            std::fs::write(dir.join("pgboot.toml"), format!("{key} = {toml_value}\n")).unwrap();
            args.extend(["--config", config]);
            let r = run(dir, &[], &args);
            std::fs::remove_file(dir.join("pgboot.toml")).unwrap();
            r
        }
    }
}

#[test]
fn bad_durations_are_exit_2_naming_the_setting() {
    let dir = tempfile::tempdir().unwrap();
    for &(key, has_flag) in DURATIONS {
        for layer in [Layer::Flag, Layer::Env, Layer::File] {
            if matches!(layer, Layer::Flag) && !has_flag {
                continue;
            }
            for value in ["1e300", "1e20", "-1", "-0.5", "NaN", ""] {
                let r = with_setting(dir.path(), layer, key, value);
                assert_eq!(r.code, 2, "{key}={value:?} via {layer:?}: {}", r.all());
                assert!(
                    r.stderr.contains(&format!("setting {key}")),
                    "{key}={value:?} via {layer:?}: {}",
                    r.stderr
                );
                assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
            }
        }
    }
    // libpq's own variable for connect_timeout.
    let r = run(dir.path(), &[("PGCONNECT_TIMEOUT", "1e300")], &["wait"]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(r.stderr.contains("connect_timeout") && r.stderr.contains("PGCONNECT_TIMEOUT"));
}

#[test]
fn postgres_millisecond_settings_have_postgres_limits() {
    let dir = tempfile::tempdir().unwrap();
    for key in ["statement_timeout", "session_lock_timeout"] {
        for layer in [Layer::Flag, Layer::Env, Layer::File] {
            let r = with_setting(dir.path(), layer, key, "25d");
            assert_eq!(r.code, 2, "{key} via {layer:?}: {}", r.all());
            assert!(
                r.stderr.contains(key) && r.stderr.contains("2147483647ms"),
                "{}",
                r.stderr
            );
        }
    }
}

type Env = Vec<(String, String)>;

/// A named run: its environment and arguments.
struct Case {
    name: String,
    env: Vec<(String, String)>,
    args: Vec<String>,
}

/// Every configuration error path that can see the password.
fn secret_error_cases(dir: &Path) -> Vec<Case> {
    let pw = PASSWORD;
    let encoded = PASSWORD.replace('-', "%2D");
    let s = |v: &str| v.to_owned();
    let mut cases: Vec<(String, Env, Vec<String>)> = Vec::new();
    let mut url = |name: &str, url: String| {
        cases.push((s(name), vec![(s("DATABASE_URL"), url)], vec![]));
    };
    url(
        "key=value, quoted password, bad port",
        format!("host=127.0.0.1 password='x {pw}' port=abc"),
    );
    url(
        "key=value, unbalanced quote",
        format!("host=127.0.0.1 password='x {pw} port=abc"),
    );
    url(
        "key=value, unquoted space",
        format!("host=127.0.0.1 password=x {pw}"),
    );
    url(
        "key=value, password read as a key",
        format!("host=127.0.0.1 password=x {pw}=1"),
    );
    url("u:p@@host", format!("postgres://u:{pw}@@127.0.0.1/db"));
    url("u:p@ss@host", format!("postgres://u:{pw}@ss@127.0.0.1/db"));
    url("bad port", format!("postgres://u:{pw}@127.0.0.1:abc/db"));
    url(
        "percent-encoded password, bad port",
        format!("postgres://u:{encoded}@127.0.0.1:abc/db"),
    );
    url(
        "password parameter, malformed query",
        format!("postgres://u@127.0.0.1/db?password={pw}&oops"),
    );
    url(
        "password parameter, bad sslmode",
        format!("postgres://u@127.0.0.1/db?password={encoded}&sslmode=sometimes"),
    );
    url("broken scheme", format!("postgres:/u:{pw}@127.0.0.1/db"));

    // The same URL problems from a secret file and from the flag.
    let url_file = dir.join("url");
    std::fs::write(&url_file, format!("postgres://u:{pw}@@127.0.0.1/db\n")).unwrap();
    cases.push((
        s("DATABASE_URL_FILE with u:p@@host"),
        vec![(s("DATABASE_URL_FILE"), url_file.display().to_string())],
        vec![],
    ));
    cases.push((
        s("--database-url with u:p@@host"),
        vec![],
        vec![
            s("--database-url"),
            format!("postgres://u:{pw}@@127.0.0.1/db"),
        ],
    ));

    // Configuration errors while the password is set everywhere it can be.
    let pw_file = dir.join("pw");
    std::fs::write(&pw_file, format!("{pw}\n")).unwrap();
    let everywhere = || {
        vec![
            (s("PGPASSWORD"), s(pw)),
            (s("DATABASE_URL"), format!("postgres://u:{pw}@127.0.0.1/db")),
        ]
    };
    let mut e = everywhere();
    e.push((s("PGBOOT_STATEMENT_TIMEOUT"), s("1e300")));
    cases.push((s("bad duration in env"), e, vec![]));
    cases.push((
        s("bad duration flag"),
        everywhere(),
        vec![s("--lock-timeout"), s("1e20")],
    ));
    let mut e = everywhere();
    e.push((s("PGBOOT_PASWORD"), s(pw)));
    cases.push((s("misspelt PGBOOT_ variable"), e, vec![]));
    cases.push((
        s("NAME and NAME_FILE"),
        vec![
            (s("PGPASSWORD"), s(pw)),
            (s("PGPASSWORD_FILE"), pw_file.display().to_string()),
        ],
        vec![],
    ));
    cases.push((
        s("unreadable secret file"),
        vec![(s("POSTGRES_PASSWORD_FILE"), dir.display().to_string())],
        vec![],
    ));

    // Config files that hold the password and do not parse.
    for (name, text) in [
        (
            "TOML: unterminated string",
            format!("host = \"db\"\npassword = \"{pw}\n"),
        ),
        ("TOML: bare value", format!("password = {pw}\n")),
        ("TOML: bad escape", format!("password = \"{pw}\\q\"\n")),
        (
            "TOML: duplicate key",
            format!("password = \"{pw}\"\npassword = \"{pw}\"\n"),
        ),
        (
            "TOML: password of the wrong type",
            format!("password = [\"{pw}\"]\n"),
        ),
        (
            "TOML: bad URL",
            format!("database_url = \"host=h password='{pw} port=abc\"\n"),
        ),
        (
            "TOML: unknown key",
            format!("passwrd = \"{pw}\"\ndatabase_url = \"postgres://u:{pw}@h/d\"\n"),
        ),
    ] {
        let file = dir.join(format!("{}.toml", cases.len()));
        std::fs::write(&file, text).unwrap();
        cases.push((
            s(name),
            vec![],
            vec![s("--config"), file.display().to_string()],
        ));
    }
    cases
        .into_iter()
        .map(|(name, env, args)| Case { name, env, args })
        .collect()
}

#[test]
fn the_password_appears_in_no_output_of_any_configuration_error() {
    let dir = tempfile::tempdir().unwrap();
    let encoded = PASSWORD.replace('-', "%2D");
    let cases = secret_error_cases(dir.path());
    for Case { name, env, args } in &cases {
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        for format in ["text", "json"] {
            for command in [
                &["wait", "--wait-timeout", "2s"][..],
                &["config"],
                &["config", "--json"],
            ] {
                let mut a: Vec<&str> = vec!["--log-format", format];
                a.extend(args.iter().map(String::as_str));
                a.splice(0..0, command.iter().copied());
                let r = run(dir.path(), &env, &a);
                let all = r.all();
                assert!(
                    !all.contains(PASSWORD) && !all.contains(&encoded),
                    "{name} ({format}, {command:?}): password leaked:\n{all}"
                );
                if command[0] == "wait" {
                    assert_eq!(r.code, 2, "{name} ({format}): {all}");
                }
            }
        }
    }
}
