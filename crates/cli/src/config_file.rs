//! `serve --config FILE`: every option of `serve` in one TOML file, under its
//! flag's name in snake_case (`--rate-limit-per-org` is `rate_limit_per_org`);
//! `deploy/config.example.toml` lists them all with their defaults.
//!
//! Precedence: the command line, then the environment (`REFERRAL_HUB_*`),
//! then the file, then the built-in default. The file's settings are handed
//! to the same parser as flags, so a value is checked exactly as on the
//! command line; an unknown key or a bad value is refused naming the key.

use std::{ffi::OsString, path::PathBuf};

use clap::{ArgAction, CommandFactory, error::ErrorKind, parser::ValueSource};

use crate::{Cli, CliError};

/// `argv` with the config file's settings added as flags, for those the
/// command line and the environment leave unset. Anything clap would refuse
/// anyway is passed through untouched, for clap to report.
pub fn with_config_file(argv: Vec<OsString>) -> Result<Vec<OsString>, CliError> {
    let Ok(matches) = Cli::command().try_get_matches_from(&argv) else { return Ok(argv) };
    let Some(serve) = matches.subcommand_matches("serve") else { return Ok(argv) };
    let Some(path) = serve.get_one::<PathBuf>("config") else { return Ok(argv) };
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| CliError::File { path: shown.clone(), source })?;
    let table: toml::Table = text.parse().map_err(|e| CliError::Config(format!("{shown}: {e}")))?;
    let command = Cli::command();
    let serve_command = command.find_subcommand("serve").expect("serve is a subcommand");
    let mut flags = Vec::new();
    for (key, value) in &table {
        let refuse = |why: String| CliError::Config(format!("{shown}: option `{key}`: {why}"));
        let arg = serve_command
            .get_arguments()
            .filter(|a| a.get_id() != "config")
            .find(|a| a.get_long().is_some_and(|long| long.replace('-', "_") == *key))
            .ok_or_else(|| refuse("unknown; the options are the flags of `serve --help`, in snake_case".into()))?;
        if !matches!(serve.value_source(arg.get_id().as_str()), None | Some(ValueSource::DefaultValue)) {
            continue;
        }
        let flag = format!("--{}", arg.get_long().unwrap_or_default());
        let mut given = Vec::new();
        match (value, arg.get_action()) {
            (toml::Value::Boolean(true), ArgAction::SetTrue) => given.push(flag),
            (toml::Value::Boolean(false), ArgAction::SetTrue) => {}
            (toml::Value::Array(items), _) => {
                for item in items {
                    given.extend([flag.clone(), scalar(item).ok_or_else(|| refuse("a list of plain values".into()))?]);
                }
            }
            (value, _) => given.extend([flag, scalar(value).ok_or_else(|| refuse("a plain value".into()))?]),
        }
        // Checked on its own, so that the error names this key.
        let probe = ["referral-hub", "serve"].into_iter().map(String::from).chain(given.iter().cloned());
        if let Err(error) = Cli::command().try_get_matches_from(probe)
            && error.kind() != ErrorKind::MissingRequiredArgument
        {
            let text = error.to_string();
            return Err(refuse(text.lines().next().unwrap_or_default().trim_start_matches("error: ").to_owned()));
        }
        flags.extend(given.into_iter().map(OsString::from));
    }
    let at = argv.iter().position(|a| a == "serve").map_or(argv.len(), |i| i + 1);
    let mut argv = argv;
    argv.splice(at..at, flags);
    Ok(argv)
}

/// A TOML value as command-line text.
fn scalar(value: &toml::Value) -> Option<String> {
    match value {
        toml::Value::String(text) => Some(text.clone()),
        toml::Value::Integer(n) => Some(n.to_string()),
        toml::Value::Float(x) => Some(x.to_string()),
        toml::Value::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}
