//! `configure`: one AWS config profile per granted role, in the section's block of
//! ~/.aws/config, each running `saml-login credential-process` for its role.

use crate::error::{Error, Result};
use crate::login::pipeline::{Context, Origin, Wanted, assertion};
use crate::output::write_stdout;
use crate::storage::aws_config::{self, GeneratedProfile};
use crate::storage::credentials_file::SecretFile;

/// `configure`: one AWS config profile per granted role, in the section's block of
/// ~/.aws/config, each running `saml-login credential-process` for its role.
pub(crate) fn configure(cx: &Context, dry_run: bool) -> Result<()> {
    let s = &cx.job.settings;
    let granted = assertion(
        cx,
        format!("[{}] configure", s.shared.section),
        Wanted::default(),
    )?;
    let program = own_command(&cx.job.paths.programs);
    let mut profiles: Vec<GeneratedProfile> = Vec::new();
    for role in &granted.assertion.roles {
        let name = s
            .profile_name
            .replace("{role}", role.name())
            .replace("{account_alias}", cx.job.accounts.alias_for(role.account()))
            .replace("{account}", role.account())
            .replace("{section}", &s.shared.section);
        crate::storage::credentials_file::check_profile_name(&name).map_err(|message| {
            Error::BadValue {
                field: "profile_name".into(),
                origin: format!("[{}]", s.shared.section),
                message,
            }
        })?;
        if let Some(other) = profiles.iter().find(|p| p.name == name) {
            return Err(Error::BadValue {
                field: "profile_name".into(),
                origin: format!("[{}]", s.shared.section),
                message: format!(
                    "{name:?} would name both {} and {}: add {{account}} or {{account_alias}}",
                    other.role_arn, role.role_arn
                ),
            });
        }
        let mut entries = vec![(
            "credential_process",
            shell_words::join([
                program.as_str(),
                "-c",
                &s.shared.section,
                "credential-process",
                "--account",
                role.account(),
                "--role",
                role.name(),
            ]),
        )];
        if let Some(region) = &s.region {
            entries.push(("region", region.clone()));
        }
        profiles.push(GeneratedProfile {
            name,
            role_arn: role.role_arn.clone(),
            entries,
        });
    }
    let path = &cx.job.paths.aws_config;
    let edit = |old: &str| {
        aws_config::with_block(old, &s.shared.section, &profiles).map_err(|message| {
            Error::Malformed {
                path: path.clone(),
                message,
            }
        })
    };
    let old = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(source) => {
            return Err(Error::Read {
                path: path.clone(),
                source,
            });
        }
    };
    let new = edit(&old)?;
    // configure is what people run because grants changed: say which grants it used.
    if let Origin::Cached { .. } = granted.origin {
        crate::output::notice!("configure used the roles of {}", granted.origin.describe());
    }
    if dry_run {
        report_dry_run(path, &s.shared.section, &profiles, new == old);
        let shown = path.display().to_string();
        let diff = similar::TextDiff::from_lines(&old, &new)
            .unified_diff()
            .header(&shown, &shown)
            .to_string();
        return write_stdout(&diff);
    }
    if new == old {
        crate::output::notice!(
            "{} already holds the {} profile(s) of [{}]; nothing changed",
            path.display(),
            profiles.len(),
            s.shared.section
        );
        return Ok(());
    }
    SecretFile::new(path).update(edit)?;
    let names: Vec<&str> = profiles.iter().map(|p| p.name.as_str()).collect();
    crate::output::notice!(
        "wrote {} profile(s) of [{}] to {}: {}",
        profiles.len(),
        s.shared.section,
        path.display(),
        names.join(", ")
    );
    Ok(())
}

/// `--dry-run`'s one line on stderr, whatever the diff: what was found, and whether
/// the file would change.
fn report_dry_run(
    path: &std::path::Path,
    section: &str,
    profiles: &[GeneratedProfile],
    same: bool,
) {
    let names: Vec<&str> = profiles.iter().map(|p| p.name.as_str()).collect();
    crate::output::notice!(
        "dry run: [{section}] gets {} profile(s) ({}); {} (nothing written)",
        profiles.len(),
        names.join(", "),
        if same {
            format!("no change to {}", path.display())
        } else {
            format!("the diff to {} is on stdout", path.display())
        }
    );
}

/// How a generated profile calls saml-login: its name when PATH (of the resolved
/// `programs`) finds this very program, else the absolute path of the running binary.
fn own_command(programs: &saml_login_capture::Vars) -> String {
    let exe = std::env::current_exe().ok();
    let canonical = |p: &std::path::Path| std::fs::canonicalize(p).ok();
    let on_path = programs.find_on_path("saml-login");
    match (&exe, &on_path) {
        (Some(exe), Some(found))
            if canonical(exe).is_some() && canonical(exe) == canonical(found) =>
        {
            "saml-login".to_owned()
        }
        (Some(exe), _) => exe.display().to_string(),
        (None, _) => "saml-login".to_owned(),
    }
}
