//! The configuration's layers and checks.

use super::*;

fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn layers_defaults_file_and_environment() {
    let dir = std::env::temp_dir().join(format!("doorstep-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("doorstep.toml");
    std::fs::write(
        &file,
        "bind = \"0.0.0.0:9000\"\nsession_idle_minutes = 10\n",
    )
    .unwrap();
    let c = Config::load_from(
        Some(&file),
        &env(&[
            ("DOORSTEP_SESSION_IDLE_MINUTES", "20"),
            ("DOORSTEP_DATABASE_URL", "postgres://u:pw@db/doorstep"),
        ]),
    )
    .unwrap();
    assert_eq!(c.bind, "0.0.0.0:9000");
    assert_eq!(c.sources["bind"], Source::File(file.clone()));
    assert_eq!(c.session_idle_minutes, 20);
    assert_eq!(
        c.sources["session_idle_minutes"],
        Source::Env("DOORSTEP_SESSION_IDLE_MINUTES".into())
    );
    assert_eq!(c.sources["lockout_minutes"], Source::Default);
    let text = c.describe();
    assert!(text.contains("postgres://u:****@db/doorstep"), "{text}");
    assert!(!text.contains("pw@"), "the password must never be printed");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_calendar_file_adds_years_and_a_bad_one_is_refused_naming_it() {
    let dir = std::env::temp_dir().join(format!("doorstep-config-cal-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("calendar.toml");
    std::fs::write(
        &file,
        "[2028]\nsource = \"notice\"\nholidays = [\"2028-01-03\"]\n",
    )
    .unwrap();
    let path = file.display().to_string();
    let c = Config::load_from(None, &env(&[("DOORSTEP_CALENDAR_FILE", &path)])).unwrap();
    let cal = c.calendar().unwrap();
    assert_eq!(cal.years[&2028], "notice");
    assert!(cal.years.contains_key(&2026), "the built-in years stay");
    assert!(c.describe().contains(&path));
    std::fs::write(&file, "[2028]\nholidays = [\"2028-02-30\"]\n").unwrap();
    let e = Config::load_from(None, &env(&[("DOORSTEP_CALENDAR_FILE", &path)])).unwrap_err();
    let e = format!("{e:#}");
    assert!(
        e.contains("DOORSTEP_CALENDAR_FILE") && e.contains(&path) && e.contains("2028-02-30"),
        "{e}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn the_encryption_key_is_checked_and_never_printed() {
    let key = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
    let c = Config::load_from(None, &env(&[("DOORSTEP_ENCRYPTION_KEY", key)])).unwrap();
    assert!(c.vault().unwrap().is_some());
    let text = c.describe();
    assert!(
        !text.contains(key) && text.contains("encryption_key = \"****\""),
        "{text}"
    );
    let e = Config::load_from(None, &env(&[("DOORSTEP_ENCRYPTION_KEY", "too-short")])).unwrap_err();
    assert!(format!("{e:#}").contains("32 bytes"), "{e:#}");
    assert!(Config::default().vault().unwrap().is_none());
}

#[test]
fn bad_values_name_their_source() {
    let e = Config::load_from(None, &env(&[("DOORSTEP_BIND", "nonsense")])).unwrap_err();
    assert!(format!("{e:#}").contains("DOORSTEP_BIND"), "{e:#}");
    let dir = std::env::temp_dir().join(format!("doorstep-config-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("c.toml");
    std::fs::write(&file, "bindd = \"x\"\n").unwrap();
    let e = Config::load_from(Some(&file), &BTreeMap::new()).unwrap_err();
    assert!(
        format!("{e:#}").contains("unknown setting `bindd`"),
        "{e:#}"
    );
    std::fs::write(&file, "bind = \n").unwrap();
    let e = Config::load_from(Some(&file), &BTreeMap::new()).unwrap_err();
    assert!(format!("{e:#}").contains("line 1"), "{e:#}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn metrics_addresses_and_log_format_are_read_and_checked() {
    let c = Config::load_from(None, &env(&[])).unwrap();
    assert!(
        c.metrics_from.is_empty(),
        "only an admin's token by default"
    );
    assert_eq!(c.log_format, LogFormat::Text);
    let c = Config::load_from(
        None,
        &env(&[
            ("DOORSTEP_METRICS_FROM", "10.0.0.0/8, 192.168.1.5"),
            ("DOORSTEP_LOG_FORMAT", "json"),
        ]),
    )
    .unwrap();
    assert!(
        c.metrics_from
            .iter()
            .any(|n| n.contains("10.1.2.3".parse().unwrap()))
    );
    assert!(
        !c.metrics_from
            .iter()
            .any(|n| n.contains("127.0.0.1".parse().unwrap()))
    );
    assert_eq!(c.log_format, LogFormat::Json);
    let text = c.describe();
    assert!(
        text.contains("log_format = \"json\"") && text.contains("metrics_from = \"10.0.0.0/8"),
        "{text}"
    );
    for (k, v, why) in [
        ("DOORSTEP_LOG_FORMAT", "xml", "neither text nor json"),
        (
            "DOORSTEP_METRICS_FROM",
            "10.0.0.0/99",
            "DOORSTEP_METRICS_FROM",
        ),
    ] {
        let e = Config::load_from(None, &env(&[(k, v)])).unwrap_err();
        assert!(format!("{e:#}").contains(why), "{e:#}");
    }
}
