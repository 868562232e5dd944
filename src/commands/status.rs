//! `status`: the profiles saml-login wrote to the credentials file (role, account
//! alias, time left), the credential servers running and the cached SAML assertions,
//! as a table or JSON. Reads only
//! names and times: no key, token or assertion is printed.

use std::io::IsTerminal;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::commands::assume::PROFILE_ROLE_KEY;
use crate::config::accounts::Accounts;
use crate::config::paths::Paths;
use crate::error::Result;
use crate::output::write_stdout;
use crate::storage::cache::{CREDENTIALS_MARGIN, Cache};
use crate::storage::credentials_file::{profile_values, section_name};
use crate::storage::secret_store::CacheChoice;

/// One line of the report.
struct Row {
    kind: &'static str,
    name: String,
    role: String,
    alias: String,
    until: Option<OffsetDateTime>,
}

/// `valid`, `expiring` (within the cache's margin: a refresh is due) or `expired`.
fn state(until: Option<OffsetDateTime>, now: OffsetDateTime) -> &'static str {
    match until {
        None => "unknown",
        Some(t) if t <= now => "expired",
        Some(t) if t - now <= CREDENTIALS_MARGIN => "expiring",
        Some(_) => "valid",
    }
}

fn left(until: Option<OffsetDateTime>, now: OffsetDateTime) -> String {
    match until.map(|t| (t - now).whole_seconds()) {
        None => "-".into(),
        Some(s) if s <= 0 => "0m".into(),
        Some(s) if s < 3600 => format!("{}m{:02}s", s / 60, s % 60),
        Some(s) => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
    }
}

fn rows(paths: &Paths) -> Vec<Row> {
    let accounts = Accounts::load(&paths.accounts).ok();
    let text = std::fs::read_to_string(&paths.credentials).unwrap_or_default();
    let mut rows = Vec::new();
    for name in text.lines().filter_map(section_name) {
        let Some(values) = profile_values(&text, name) else {
            continue;
        };
        let get = |k: &str| values.iter().find(|(key, _)| key == k).map(|(_, v)| v);
        let Some(role) = get(PROFILE_ROLE_KEY) else {
            continue;
        };
        let account = role.split(':').nth(4).unwrap_or_default();
        rows.push(Row {
            kind: "profile",
            name: name.to_owned(),
            alias: accounts
                .as_ref()
                .map_or(account, |a| a.alias_for(account))
                .to_owned(),
            role: role.clone(),
            until: get("expiration").and_then(|v| OffsetDateTime::parse(v, &Rfc3339).ok()),
        });
    }
    // The assertion cache's files (the keyring holds only their secret half).
    let cache = Cache::new(paths.cache.clone(), CacheChoice::File);
    for (login, _, until) in cache.assertion_times() {
        rows.push(Row {
            kind: "assertion",
            name: login,
            role: String::new(),
            alias: String::new(),
            until: Some(until),
        });
    }
    // The credential servers running (`exec --server`, `serve`): what they serve, from
    // where, and until when the keys they hold are valid.
    for server in crate::storage::servers::running(&paths.cache) {
        let role = server.role.clone().unwrap_or_default();
        let account = role.split(':').nth(4).unwrap_or_default().to_owned();
        rows.push(Row {
            kind: "server",
            name: format!("{} {} ({})", server.url, server.serves, server.mode),
            alias: accounts
                .as_ref()
                .map_or(account.as_str(), |a| a.alias_for(&account))
                .to_owned(),
            role,
            until: server.until(),
        });
    }
    rows
}

/// Print the report: JSON with `json`; else a table on a terminal, tab-separated
/// lines otherwise.
pub(crate) fn status(paths: &Paths, json: bool) -> Result<()> {
    let now = crate::clock::now();
    let rows = rows(paths);
    if json {
        let items: Vec<_> = rows
            .iter()
            .map(|r| {
                serde_json::json!({
                    "kind": r.kind,
                    "name": r.name,
                    "role": (!r.role.is_empty()).then_some(&r.role),
                    "account": (!r.alias.is_empty()).then_some(&r.alias),
                    "expiration": r.until.and_then(|t| t.format(&Rfc3339).ok()),
                    "seconds_left": r.until.map(|t| (t - now).whole_seconds().max(0)),
                    "state": state(r.until, now),
                })
            })
            .collect();
        return write_stdout(&format!("{}\n", serde_json::Value::from(items)));
    }
    let header = ["KIND", "NAME", "ACCOUNT", "ROLE", "LEFT", "STATE"];
    let cells: Vec<[String; 6]> = rows
        .iter()
        .map(|r| {
            let role = r.role.rsplit('/').next().unwrap_or_default().to_owned();
            let mark = match state(r.until, now) {
                "expiring" => "expiring !".to_owned(),
                other => other.to_owned(),
            };
            [
                r.kind.to_owned(),
                r.name.clone(),
                r.alias.clone(),
                role,
                left(r.until, now),
                mark,
            ]
        })
        .collect();
    if !std::io::stdout().is_terminal() {
        let out: String = std::iter::once(header.map(str::to_owned))
            .chain(cells)
            .map(|c| format!("{}\n", c.join("\t")))
            .collect();
        return write_stdout(&out);
    }
    let mut widths = header.map(str::len);
    for c in &cells {
        for (w, v) in widths.iter_mut().zip(c) {
            *w = (*w).max(v.chars().count());
        }
    }
    let line = |c: &[String]| {
        let mut s = c
            .iter()
            .zip(widths)
            .map(|(v, w)| format!("{v:<w$}"))
            .collect::<Vec<_>>()
            .join("  ");
        s.truncate(s.trim_end().len());
        s + "\n"
    };
    let mut out = line(&header.map(str::to_owned));
    for c in &cells {
        out.push_str(&line(c));
    }
    if cells.is_empty() {
        out.push_str(
            "(no profile written by saml-login, no credential server and no cached assertion)\n",
        );
    }
    write_stdout(&out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiring_within_the_refresh_margin() {
        let now = time::macros::datetime!(2030-01-01 12:00 UTC);
        assert_eq!(state(Some(now + time::Duration::hours(1)), now), "valid");
        assert_eq!(
            state(Some(now + time::Duration::minutes(9)), now),
            "expiring"
        );
        assert_eq!(
            state(Some(now - time::Duration::seconds(1)), now),
            "expired"
        );
        assert_eq!(
            left(Some(now + time::Duration::seconds(3725)), now),
            "1h02m"
        );
        assert_eq!(left(Some(now + time::Duration::seconds(125)), now), "2m05s");
        assert_eq!(left(Some(now - time::Duration::seconds(5)), now), "0m");
    }
}
