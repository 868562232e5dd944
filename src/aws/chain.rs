//! `--profile P` for `exec`, `env` and `aws-console`: the credentials of an AWS config
//! profile, resolved as the SDKs resolve it. A `credential_process` profile (such as
//! the ones `configure` writes) runs its command; a `role_arn` + `source_profile`
//! profile assumes that role with the source profile's credentials, one `AssumeRole`
//! per hop, each hop cached under the identity rules (the source's keys, role, session
//! name, external id, duration, region). Loops and chains deeper than 10 are refused.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use saml_login_capture::Secret;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::aws::credentials::Credentials;
use crate::aws::sts::{self, HopRequest};
use crate::error::{Error, Result};
use crate::storage::aws_config;
use crate::storage::cache::Cache;

/// The deepest chain followed.
const MAX_DEPTH: usize = 10;
/// A chained session (whose source is itself a role session) lasts at most an hour.
const CHAINED_MAX_DURATION: i32 = 3600;
/// How long a `credential_process` command may take (it may run a whole login).
const PROCESS_LIMIT: Duration = Duration::from_secs(600);

/// What a chain reads besides its cache, as the resolver found it (`Paths::aws_files`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct AwsFiles<'a> {
    /// The AWS config file (`AWS_CONFIG_FILE`, else `~/.aws/config`).
    pub aws_config: &'a std::path::Path,
    /// The region of the environment (`AWS_REGION`, `AWS_DEFAULT_REGION`).
    pub aws_region: Option<&'a str>,
    /// Where a `credential_process` program is looked for.
    pub programs: &'a saml_login_capture::Vars,
}

/// Whether `name` is a profile of the AWS config file.
pub(crate) fn has_profile(paths: AwsFiles<'_>, name: &str) -> bool {
    std::fs::read_to_string(paths.aws_config)
        .ok()
        .and_then(|text| aws_config::profile(&text, name))
        .is_some()
}

/// The credentials of profile `name`, and the profile's region if it names one;
/// `force` skips the cached hops.
pub(crate) fn resolve(
    paths: AwsFiles<'_>,
    cache: &Cache,
    name: &str,
    force: bool,
) -> Result<(Credentials, Option<String>)> {
    // The config names commands to run with the user's rights: trusted as the
    // credentials file is (issue 27, finding 6).
    crate::storage::credentials_file::check_trusted(paths.aws_config).map_err(|(path, why)| {
        Error::Untrusted {
            message: format!(
                "{why}; saml-login takes no profile (and runs no credential_process) from {}",
                paths.aws_config.display()
            ),
            path,
        }
    })?;
    let text = std::fs::read_to_string(paths.aws_config).map_err(|source| Error::Read {
        path: paths.aws_config.to_owned(),
        source,
    })?;
    let mut seen = Vec::new();
    let credentials = resolve_at(paths, cache, &text, name, force, &mut seen)?;
    let region = aws_config::profile(&text, name)
        .and_then(|v| v.into_iter().find(|(k, _)| k == "region").map(|(_, v)| v));
    Ok((credentials, region))
}

fn resolve_at(
    paths: AwsFiles<'_>,
    cache: &Cache,
    text: &str,
    name: &str,
    force: bool,
    seen: &mut Vec<String>,
) -> Result<Credentials> {
    let malformed = |m: String| Error::Malformed {
        path: paths.aws_config.to_owned(),
        message: m,
    };
    if seen.iter().any(|s| s == name) {
        seen.push(name.to_owned());
        return Err(malformed(format!(
            "the profiles form a loop: {}",
            seen.join(" -> ")
        )));
    }
    if seen.len() >= MAX_DEPTH {
        return Err(malformed(format!(
            "the chain {} -> {name} is deeper than {MAX_DEPTH} profiles",
            seen.join(" -> ")
        )));
    }
    seen.push(name.to_owned());
    let values = aws_config::profile(text, name)
        .ok_or_else(|| malformed(format!("no profile [{}]", aws_config::section_of(name))))?;
    let get = |key: &str| {
        values
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.clone())
            .filter(|v| !v.is_empty())
    };
    if get("mfa_serial").is_some() {
        return Err(malformed(format!(
            "profile {name} asks for an MFA code (mfa_serial): saml-login cannot prompt for one yet; assume that role with the AWS CLI"
        )));
    }
    if let Some(role_arn) = get("role_arn") {
        let Some(source) = get("source_profile") else {
            return Err(malformed(format!(
                "profile {name} has role_arn but no source_profile (credential_source is not supported)"
            )));
        };
        let source = resolve_at(paths, cache, text, &source, force, seen)?;
        let chained = !source.session_token.expose().is_empty();
        let mut duration = match get("duration_seconds") {
            Some(v) => v
                .parse::<i32>()
                .ok()
                .filter(|d| (900..=43200).contains(d))
                .ok_or_else(|| {
                    malformed(format!(
                        "duration_seconds of profile {name}: {v:?} is not 900-43200 seconds"
                    ))
                })?,
            None => CHAINED_MAX_DURATION,
        };
        if chained && duration > CHAINED_MAX_DURATION {
            crate::output::notice!(
                "profile {name} chains on a role session, which AWS limits to {CHAINED_MAX_DURATION} s; asking for that"
            );
            duration = CHAINED_MAX_DURATION;
        }
        let session_name = get("role_session_name").unwrap_or_else(|| "saml-login".to_owned());
        let external_id = get("external_id");
        let region = get("region")
            .or_else(|| paths.aws_region.map(str::to_owned))
            .unwrap_or_else(|| "us-east-1".to_owned());
        let fingerprint = hop_fingerprint(
            &source.access_key_id,
            &role_arn,
            &session_name,
            external_id.as_deref(),
            duration,
            &region,
        );
        if let Some(hit) = cache
            .credentials_for(&fingerprint, crate::clock::now())?
            .filter(|_| !force)
        {
            crate::output::notice!(
                "using the cached credentials of {} (profile {name}), valid until {}; --force renews them",
                hit.role_arn,
                crate::output::clock(hit.credentials.expiration)
            );
            return Ok(hit.credentials);
        }
        let credentials = sts::assume_role(&HopRequest {
            source: &source,
            role_arn: &role_arn,
            session_name: &session_name,
            external_id: external_id.as_deref(),
            duration,
            region: &region,
        })?;
        if let Err(e) = cache.store_credentials_for(&fingerprint, None, &role_arn, &credentials) {
            crate::output::warning!("cannot cache the credentials: {e}");
        }
        return Ok(credentials);
    }
    if let Some(command) = get("credential_process") {
        return run_credential_process(name, &command, paths.programs);
    }
    Err(malformed(format!(
        "profile {name} has neither credential_process nor role_arn with source_profile; saml-login resolves those"
    )))
}

/// What identifies one hop: the source's access key (so other source credentials are
/// another hop), the role, session name, external id, duration and region.
fn hop_fingerprint(
    source_key: &str,
    role_arn: &str,
    session_name: &str,
    external_id: Option<&str>,
    duration: i32,
    region: &str,
) -> String {
    let canonical = serde_json::json!({
        "v": 1,
        "hop": role_arn,
        "source": source_key,
        "session": session_name,
        "external_id": external_id,
        "duration": duration,
        "region": region,
    });
    hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
}

/// Run a profile's `credential_process` as the SDKs do (split like a shell, no shell)
/// and read its `Version: 1` JSON.
fn run_credential_process(
    profile: &str,
    command: &str,
    programs: &saml_login_capture::Vars,
) -> Result<Credentials> {
    let failed = |message: String| Error::CredentialProcess {
        profile: profile.to_owned(),
        message,
    };
    let argv = shell_words::split(command)
        .map_err(|e| failed(format!("cannot split {command:?}: {e}")))?;
    let (program, args) = argv
        .split_first()
        .ok_or_else(|| failed("the command is empty".into()))?;
    let mut command = Command::new(program);
    // The IdP password is for saml-login's own form filling: another program never
    // gets it (issue 27, finding 6).
    if !is_saml_login(program, programs) {
        for var in PASSWORD_VARIABLES {
            command.env_remove(var);
        }
    }
    let mut child = command
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|source| Error::Spawn {
            program: format!("{program} (the credential_process of profile {profile})"),
            source,
        })?;
    let mut stdout = child.stdout.take().expect("piped");
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        let _ = stdout.read_to_end(&mut out);
        out
    });
    let deadline = Instant::now() + PROCESS_LIMIT;
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| failed(e.to_string()))? {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(failed(format!(
                "no answer within {} s",
                PROCESS_LIMIT.as_secs()
            )));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let out = reader.join().unwrap_or_default();
    if !status.success() {
        return Err(failed(format!("{program} failed ({status})")));
    }
    parse_process_output(&out).map_err(failed)
}

/// The variables that hold a password saml-login fills into the IdP's form.
const PASSWORD_VARIABLES: [&str; 1] = ["SAML_LOGIN_PASSWORD"];

/// Whether `program` (a path, or a name looked up in `programs`' PATH) is this very
/// executable.
fn is_saml_login(program: &str, programs: &saml_login_capture::Vars) -> bool {
    let Ok(me) = std::env::current_exe().and_then(std::fs::canonicalize) else {
        return false;
    };
    let found = if program.contains(std::path::MAIN_SEPARATOR) {
        Some(std::path::PathBuf::from(program))
    } else {
        programs.get("PATH").and_then(|path| {
            std::env::split_paths(&path)
                .map(|dir| dir.join(program))
                .find(|p| p.is_file())
        })
    };
    found
        .and_then(|p| std::fs::canonicalize(p).ok())
        .is_some_and(|p| p == me)
}

fn parse_process_output(out: &[u8]) -> std::result::Result<Credentials, String> {
    let json: serde_json::Value =
        serde_json::from_slice(out).map_err(|e| format!("its output is not JSON ({e})"))?;
    if json["Version"] != 1 {
        return Err("its output is not Version 1".into());
    }
    let field = |k: &str| {
        json[k]
            .as_str()
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| format!("its output has no {k}"))
    };
    let expiration = match json["Expiration"].as_str() {
        Some(e) => OffsetDateTime::parse(e, &Rfc3339)
            .map_err(|_| format!("Expiration {e:?} is not RFC 3339"))?,
        None => crate::clock::now() + time::Duration::hours(1),
    };
    Ok(Credentials {
        access_key_id: field("AccessKeyId")?,
        secret_access_key: Secret::new(field("SecretAccessKey")?),
        session_token: Secret::new(json["SessionToken"].as_str().unwrap_or_default()),
        expiration,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn process_output_is_read_as_the_sdks_read_it() {
        let c = parse_process_output(
            br#"{"Version":1,"AccessKeyId":"AKIA","SecretAccessKey":"s","SessionToken":"t","Expiration":"2030-01-01T00:00:00Z"}"#,
        )
        .unwrap();
        assert_eq!(c.access_key_id, "AKIA");
        assert_eq!(c.expiration_rfc3339(), "2030-01-01T00:00:00Z");
        assert!(
            parse_process_output(br#"{"Version":2}"#)
                .unwrap_err()
                .contains("Version 1")
        );
        assert!(
            parse_process_output(b"nope")
                .unwrap_err()
                .contains("not JSON")
        );
    }

    /// A `credential_process` that fails is a failed run naming the profile and the
    /// program (exit 1): nothing was typed wrong on the command line.
    #[cfg(unix)]
    #[test]
    fn a_failing_process_is_a_failure_not_a_usage_error() {
        let e = run_credential_process(
            "dev",
            "false",
            &saml_login_capture::Vars::read(["PATH"], std::env::var_os),
        )
        .unwrap_err();
        assert!(matches!(e, Error::CredentialProcess { .. }), "{e:?}");
        assert!(
            e.to_string()
                .starts_with("credential_process of profile dev: false failed"),
            "{e}"
        );
        assert_eq!(e.exit_code(), crate::error::exit::FAILURE);
    }

    /// A `credential_process` that cannot start is a failed spawn naming the program
    /// and the profile (exit 1), not a usage error (exit 2).
    #[test]
    fn a_process_that_cannot_start_is_a_spawn_error() {
        let e = run_credential_process(
            "dev",
            "/nonexistent/aws-vault exec dev",
            &saml_login_capture::Vars::default(),
        )
        .unwrap_err();
        assert!(matches!(e, Error::Spawn { .. }), "{e:?}");
        assert!(
            e.to_string().starts_with(
                "cannot run /nonexistent/aws-vault (the credential_process of profile dev): "
            ),
            "{e}"
        );
        assert_eq!(e.exit_code(), crate::error::exit::FAILURE);
    }

    #[test]
    fn every_part_of_a_hop_counts() {
        let base = hop_fingerprint("AKIA1", "arn:r", "s", None, 3600, "us-east-1");
        for other in [
            hop_fingerprint("AKIA2", "arn:r", "s", None, 3600, "us-east-1"),
            hop_fingerprint("AKIA1", "arn:q", "s", None, 3600, "us-east-1"),
            hop_fingerprint("AKIA1", "arn:r", "t", None, 3600, "us-east-1"),
            hop_fingerprint("AKIA1", "arn:r", "s", Some("x"), 3600, "us-east-1"),
            hop_fingerprint("AKIA1", "arn:r", "s", None, 900, "us-east-1"),
            hop_fingerprint("AKIA1", "arn:r", "s", None, 3600, "eu-west-1"),
        ] {
            assert_ne!(other, base);
        }
    }
}
