//! A setting is defined once: its key, flag and doc in `config/file.rs`, its default and range
//! in its concern's file. The places that describe settings to people are held to that here:
//! every key is in `configs/default.yaml`, the README's settings table and FORMAT.md's
//! `/settings`; a default a flag's help, the README or the reports state is the default that
//! runs. (That the values configs/default.yaml sets are the defaults is a unit test of config.)

mod common;

use clap::Args;
use rollcall::config::{ConfigFile, Settings};

/// Every key of a config layer as people read it (`bench` is the section `bench.slow_ranks`).
fn keys() -> Vec<&'static str> {
    ConfigFile::key_names().iter().map(|&k| if k == "bench" { "bench.slow_ranks" } else { k }).collect()
}

/// The reports' settings table of a video job that sets only what has no default.
fn defaults() -> Vec<(&'static str, String)> {
    let given: ConfigFile = serde_norway::from_str("video: v.mp4\nroster: r.h5\noutput: out\n").unwrap();
    Settings::from_config(given).unwrap().describe()
}

fn default_of(key: &str) -> String {
    defaults().into_iter().find(|(k, _)| *k == key).map(|(_, v)| v).unwrap_or_else(|| panic!("no default of {key}"))
}

/// A stated default that names one value (`0.6`, `yunet`), as opposed to a rule (`from
/// --min-face`, `4 per thread; ...`).
fn single_value(text: &str) -> Option<&str> {
    let text = text.trim().trim_matches('`');
    (!text.is_empty() && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_')).then_some(text)
}

#[test]
fn every_key_is_in_the_reports_settings_table_in_the_order_of_the_config() {
    let described: Vec<&str> = defaults().into_iter().map(|(k, _)| k).collect();
    assert_eq!(described, keys());
}

#[test]
fn every_flag_help_that_states_a_default_states_the_one_that_runs() {
    let command = ConfigFile::augment_args(clap::Command::new("attend"));
    let mut checked = 0;
    for arg in command.get_arguments() {
        let key = arg.get_id().as_str();
        let help = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
        let Some(stated) = help.split_once("[default: ").and_then(|(_, rest)| rest.split_once(']')) else { continue };
        let Some(value) = single_value(stated.0.split(';').next().unwrap_or_default()) else { continue };
        let runs = default_of(key);
        if runs.is_empty() {
            continue; // fitted to the recording (chunk, reencode_every) or a photo's (tile, overlap)
        }
        assert_eq!(value, runs, "--{} says [default: {value}] but {runs} runs", arg.get_long().unwrap_or(key));
        checked += 1;
    }
    assert!(checked >= 10, "only {checked} stated defaults read: has the help's [default: ...] form changed?");
}

#[test]
fn configs_default_yaml_names_every_key() {
    let text = common::read(&common::repo().join("configs/default.yaml"));
    let named = |key: &str| {
        let key = key.split('.').next_back().unwrap();
        text.lines().any(|l| l.trim_start_matches(['#', ' ']).starts_with(&format!("{key}:")))
    };
    let missing: Vec<&str> = keys().into_iter().filter(|k| !named(k)).collect();
    assert!(missing.is_empty(), "configs/default.yaml lacks {missing:?}");
}

#[test]
fn the_readme_settings_table_names_every_key_with_the_default_that_runs() {
    let readme = common::read(&common::repo().join("README.md"));
    let table = readme.split_once("## Settings").expect("README has a Settings section").1;
    let rows: Vec<Vec<&str>> = table
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .map(|l| l.trim_matches('|').split(" | ").map(str::trim).collect())
        .collect();
    let mut named = std::collections::BTreeSet::new();
    for row in &rows {
        // The first cell names keys in backticks: `tile`, `overlap`; `fps` / `every`; `sample` (`--sample`).
        let before_flag = row[0].split(" (").next().unwrap_or_default();
        let row_keys: Vec<&str> = before_flag.split('`').skip(1).step_by(2).collect();
        named.extend(row_keys.iter().copied());
        if let ([key], Some(stated)) = (row_keys.as_slice(), row.get(1).and_then(|d| single_value(d))) {
            assert_eq!(stated, default_of(key), "README's settings table: the default of `{key}`");
        }
    }
    let missing: Vec<&str> = keys().into_iter().filter(|k| !named.contains(k)).collect();
    assert!(missing.is_empty(), "README's settings table lacks {missing:?}");
}

#[test]
fn format_md_lists_every_key_under_settings() {
    let format = common::read(&common::repo().join("docs/FORMAT.md"));
    let row = format.lines().find(|l| l.starts_with("| `/settings` |")).expect("FORMAT.md has a /settings row");
    let missing: Vec<&str> = keys().into_iter().filter(|k| !row.contains(&format!("`{k}`"))).collect();
    assert!(missing.is_empty(), "FORMAT.md's /settings lacks {missing:?}");
}
