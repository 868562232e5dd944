//! Choosing the role among those an assertion grants: by `--account` and `--role`
//! (each alone filters), else a picker on a terminal, else an error naming what is
//! missing and the candidates.

use std::io::IsTerminal;

use crate::aws::role::AwsRole;
use crate::config::accounts::Account;
use crate::error::{Error, Result};
use crate::login::pipeline::{Context, Granted, Wanted};

/// `Role@alias`, the profile name `--show` and `--all` use.
pub(crate) fn profile_name(cx: &Context, role: &AwsRole) -> String {
    format!(
        "{}@{}",
        role.name(),
        cx.job.accounts.alias_for(role.account())
    )
}

/// The granted role matching `account` and `role` (a name or a full ARN).
pub(crate) fn select_role<'a>(
    cx: &Context,
    granted: &'a Granted,
    account: &Account,
    role: &str,
) -> Result<&'a AwsRole> {
    granted
        .assertion
        .roles
        .iter()
        .find(|r| r.role_arn == role || (r.account() == account.number && r.name() == role))
        .ok_or_else(|| Error::RoleNotGranted {
            role: format!("role {role}@{}", account.alias),
            granted: granted_list(cx, granted.assertion.roles.iter()),
            source_of_list: granted.origin.describe(),
        })
}

pub(crate) fn granted_list<'a>(cx: &Context, roles: impl Iterator<Item = &'a AwsRole>) -> String {
    roles
        .map(|r| profile_name(cx, r))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The role and profile `aws-assume-role` works on: `--account` and `--role` select
/// (each one alone filters), a picker on a terminal chooses among what is left, and a
/// missing `--profile` is `Role@alias`, as with `--all`.
pub(crate) fn choose_role<'a>(
    cx: &Context,
    granted: &'a Granted,
    account: Option<&Account>,
) -> Result<(&'a AwsRole, String)> {
    let s = &cx.job.settings;
    let role = if let (Some(account), Some(role)) = (account, s.aws_role.as_deref()) {
        select_role(cx, granted, account, role)?
    } else {
        let wanted = Wanted {
            account: account.map(|a| a.number.as_str()),
            role: s.aws_role.as_deref(),
        };
        let candidates: Vec<&AwsRole> = granted
            .assertion
            .roles
            .iter()
            .filter(|r| wanted.matches(r))
            .collect();
        match candidates.as_slice() {
            [] => {
                return Err(Error::RoleNotGranted {
                    role: wanted.to_string(),
                    granted: granted_list(cx, granted.assertion.roles.iter()),
                    source_of_list: granted.origin.describe(),
                });
            }
            [only] if !wanted.is_any() => only,
            _ => pick_role(cx, &candidates, wanted)?,
        }
    };
    let profile = s
        .aws_profile
        .clone()
        .unwrap_or_else(|| profile_name(cx, role));
    Ok((role, profile))
}

/// Several candidate roles: a picker on a terminal, else an error naming what is
/// missing and the candidates.
fn pick_role<'a>(cx: &Context, candidates: &[&'a AwsRole], wanted: Wanted) -> Result<&'a AwsRole> {
    let interactive = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    if !interactive {
        let missing: Vec<&str> = [
            wanted.account.is_none().then_some("--account"),
            wanted.role.is_none().then_some("--role"),
        ]
        .into_iter()
        .flatten()
        .collect();
        let settings: Vec<&str> = [
            wanted.account.is_none().then_some("aws_account"),
            wanted.role.is_none().then_some("aws_role"),
        ]
        .into_iter()
        .flatten()
        .collect();
        return Err(Error::Usage(format!(
            "{} {} needed to choose among {} (or {} in the section)",
            missing.join(" and "),
            if missing.len() > 1 { "are" } else { "is" },
            granted_list(cx, candidates.iter().copied()),
            settings.join(" and "),
        )));
    }
    if let [only] = candidates {
        return Ok(only);
    }
    let items: Vec<String> = candidates.iter().map(|r| profile_name(cx, r)).collect();
    let chosen = dialoguer::Select::new()
        .with_prompt("Which role?")
        .items(&items)
        .default(0)
        .interact_opt()
        .map_err(|e| {
            // The picker hides the cursor and shows it again only when it ends itself.
            show_cursor();
            match e {
                // Ctrl-C: the terminal is in raw mode, so it arrives as a read error.
                dialoguer::Error::IO(io) if io.kind() == std::io::ErrorKind::Interrupted => {
                    Error::Interrupted
                }
                e => Error::RolePicker(e.to_string()),
            }
        })?;
    chosen.map(|i| candidates[i]).ok_or(Error::NoRoleChosen)
}

/// Show the terminal's cursor again (ANSI `CSI ? 25 h`, what the picker itself sends).
fn show_cursor() {
    use std::io::Write;
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(b"\x1b[?25h");
    let _ = err.flush();
}
