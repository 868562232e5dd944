//! The trust rules of the extras (skip-while-valid, the credential cache, the assertion
//! cache): a stored answer serves only the very same request and says so; parallel
//! callers share one login; an IdP that does not echo our `RelayState` gets an answer
//! at once and a safe way in. Against moto and the test IdP, with the browser stand-in
//! as the system browser; the IdP counts its logins.

use std::process::{Output, Stdio};
use std::time::Duration;

use crate::support::*;

const SANDBOX: &str = "123456789012";
const OTHER: &str = "210987654321";

fn role(account: &str, name: &str) -> String {
    format!("arn:aws:iam::{account}:role/{name},arn:aws:iam::{account}:saml-provider/test-idp")
}

/// Three roles over two accounts, one Role attribute each (moto reads one value per
/// attribute).
fn three_roles() -> Vec<String> {
    vec![
        "--split-role-attributes".into(),
        "--role".into(),
        role(SANDBOX, "Developer"),
        "--role".into(),
        role(SANDBOX, "Admin"),
        "--role".into(),
        role(OTHER, "Ops"),
    ]
}

/// moto, the test IdP (logged in, posting to a free loopback port), and a HOME whose
/// ~/.saml-login [DEFAULT] points at them with the browser stand-in as system browser.
fn world(idp_args: &[String], browser_args: &str) -> (Env, Server, Server, u16) {
    let idp_args: Vec<&str> = idp_args.iter().map(String::as_str).collect();
    let w = World::new()
        .idp_args(&idp_args)
        .browser_args(browser_args)
        .accounts(&format!(
            "[DEFAULT]\nsandbox = {SANDBOX}\nother = {OTHER}\n"
        ))
        .build();
    (w.env, w.idp, w.moto.unwrap(), w.port)
}

fn start_idp(port: u16, idp_args: &[String]) -> Server {
    let callback = format!("http://localhost:{port}/saml");
    let mut args = vec!["--auto-session", "--callback", callback.as_str()];
    args.extend(idp_args.iter().map(String::as_str));
    idp(&args)
}

/// Stop `idp` and start another on its port (the same IdP URL) granting what `idp_args`
/// say.
fn restart_idp(idp: Server, callback_port: u16, idp_args: &[String]) -> Server {
    let idp_port = idp.port.to_string();
    drop(idp);
    let mut args = vec!["--port".to_owned(), idp_port];
    args.extend_from_slice(idp_args);
    start_idp(callback_port, &args)
}

/// The value of `key` in `[profile]` of the credentials file.
fn profile_value(env: &Env, profile: &str, key: &str) -> Option<String> {
    let text = env.credentials();
    let mut lines = text.lines();
    lines.find(|l| l.trim() == format!("[{profile}]"))?;
    lines
        .take_while(|l| !l.starts_with('['))
        .find_map(|l| l.strip_prefix(&format!("{key} = ")).map(str::to_owned))
}

#[test]
fn a_valid_profile_never_answers_for_another_role_or_other_terms() {
    let (env, idp, _moto, _) = world(&three_roles(), "");
    let first = [
        "aws-assume-role",
        "--account",
        "sandbox",
        "--role",
        "Developer",
        "--profile",
        "work",
    ];
    env.ok(&first);
    let key = profile_value(&env, "work", "aws_access_key_id").unwrap();
    assert_eq!(
        profile_value(&env, "work", "x_saml_login_role").as_deref(),
        Some(format!("arn:aws:iam::{SANDBOX}:role/Developer").as_str())
    );

    // The same request: the stored profile answers, and says so.
    let stderr = env.ok(&first);
    assert!(stderr.contains("no login needed"), "{stderr}");
    assert_eq!(
        profile_value(&env, "work", "aws_access_key_id"),
        Some(key.clone())
    );

    // Another role in another account under the same profile name: new keys.
    let stderr = env.ok(&[
        "aws-assume-role",
        "--account",
        "other",
        "--role",
        "Ops",
        "--profile",
        "work",
    ]);
    assert!(!stderr.contains("no login needed"), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "profile work holds arn:aws:iam::{SANDBOX}:role/Developer, not the role Ops in account {OTHER} asked for"
        )),
        "{stderr}"
    );
    let ops_key = profile_value(&env, "work", "aws_access_key_id").unwrap();
    assert_ne!(ops_key, key);
    assert_eq!(
        profile_value(&env, "work", "x_saml_login_role").as_deref(),
        Some(format!("arn:aws:iam::{OTHER}:role/Ops").as_str())
    );

    // The same role with a session policy: not the unrestricted keys.
    let restricted = [
        "aws-assume-role",
        "--account",
        "other",
        "--role",
        "Ops",
        "--profile",
        "work",
        "--policy-arn",
        "arn:aws:iam::aws:policy/ReadOnlyAccess",
    ];
    let stderr = env.ok(&restricted);
    assert!(stderr.contains("under other terms"), "{stderr}");
    let restricted_key = profile_value(&env, "work", "aws_access_key_id").unwrap();
    assert_ne!(restricted_key, ops_key);
    // ... and the same restricted request again is answered by the profile.
    let stderr = env.ok(&restricted);
    assert!(stderr.contains("no login needed"), "{stderr}");
    // Another duration is another request too.
    let stderr = env.ok(&[
        "--role-duration",
        "7200",
        "aws-assume-role",
        "--account",
        "other",
        "--role",
        "Ops",
        "--profile",
        "work",
        "--policy-arn",
        "arn:aws:iam::aws:policy/ReadOnlyAccess",
    ]);
    assert!(stderr.contains("under other terms"), "{stderr}");
    assert_ne!(
        profile_value(&env, "work", "aws_access_key_id").unwrap(),
        restricted_key
    );
    // Every STS call above came from the one login's cached assertion.
    assert_eq!(idp.samlp_requests(), 1);
}

#[test]
fn open_console_with_a_valid_profile_opens_the_console() {
    let (env, _idp, _moto, _) = world(&three_roles(), "");
    let fed = Server::python("federation.py", &[]);
    let env = env.var(
        "SAML_LOGIN_FEDERATION_URL",
        format!("{}/federation", fed.url),
    );
    let args = [
        "aws-assume-role",
        "--account",
        "sandbox",
        "--role",
        "Developer",
        "--profile",
        "work",
    ];
    env.ok(&args);
    let key = profile_value(&env, "work", "aws_access_key_id").unwrap();
    let mut with_console = args.to_vec();
    with_console.push("-C");
    let stderr = env.ok(&with_console);
    assert!(stderr.contains("no login needed"), "{stderr}");
    let seen = fed.get("/requests");
    assert!(
        seen.contains(&format!("\"sessionId\": \"{key}\"")),
        "the console was opened with the stored profile's keys: {seen}"
    );
}

#[test]
fn caches_say_when_they_answer_and_force_or_no_cache_log_in() {
    let (env, idp, _moto, port) = world(&three_roles(), "");
    env.call(&["aws-assume-role", "--show"])
        .success()
        .stdout_has("[Ops@other]");
    assert_eq!(idp.samlp_requests(), 1);

    // The IdP now grants other roles.
    let idp = restart_idp(
        idp,
        port,
        &[
            "--split-role-attributes".into(),
            "--role".into(),
            role(SANDBOX, "Auditor"),
        ],
    );
    env.call(&["aws-assume-role", "--show"])
        .success()
        // The cached assertion answered.
        .stdout_has("[Ops@other]")
        // A cached answer is announced.
        .stderr_has("using the SAML assertion of")
        .stderr_has("--force logs in again");
    assert_eq!(idp.samlp_requests(), 0);

    // --force logs in and replaces the cached assertion.
    env.call(&["aws-assume-role", "--show", "--force"])
        .success()
        .stdout_has("[Auditor@sandbox]")
        .stdout_lacks("Ops")
        .stderr_lacks("using the SAML assertion");
    assert_eq!(idp.samlp_requests(), 1);
    env.call(&["aws-assume-role", "--show"])
        .stdout_has("[Auditor@sandbox]");
    assert_eq!(
        idp.samlp_requests(),
        1,
        "the new assertion replaced the old one"
    );

    // --no-cache neither reads nor writes it.
    let cached = std::fs::read_dir(env.path(".cache/saml-login/assertions"))
        .unwrap()
        .map(|e| std::fs::read(e.unwrap().path()).unwrap())
        .collect::<Vec<_>>();
    env.call(&["--no-cache", "aws-assume-role", "--show"])
        .success()
        .stderr_lacks("using the SAML assertion");
    assert_eq!(idp.samlp_requests(), 2);
    let after = std::fs::read_dir(env.path(".cache/saml-login/assertions"))
        .unwrap()
        .map(|e| std::fs::read(e.unwrap().path()).unwrap())
        .collect::<Vec<_>>();
    assert_eq!(after, cached, "--no-cache wrote nothing");
}

#[test]
fn a_cached_assertion_that_does_not_grant_the_role_is_not_used() {
    let (env, idp, _moto, port) = world(&three_roles(), "");
    env.ok(&["aws-assume-role", "--show"]);
    // The IdP now also grants Auditor.
    let mut args = three_roles();
    args.extend(["--role".into(), role(SANDBOX, "Auditor")]);
    let idp = restart_idp(idp, port, &args);
    let stderr = env.ok(&[
        "aws-assume-role",
        "--account",
        "sandbox",
        "--role",
        "Auditor",
        "--profile",
        "audit",
    ]);
    assert!(
        stderr.contains("grants no role Auditor in account 123456789012; logging in again"),
        "{stderr}"
    );
    assert_eq!(idp.samlp_requests(), 1);
    // A role granted nowhere: the error says which assertion listed the roles.
    env.call(&[
        "aws-assume-role",
        "--account",
        "sandbox",
        "--role",
        "Nobody",
        "--profile",
        "x",
    ])
    .code(1)
    .stderr_has("role Nobody@sandbox is not granted by the SAML assertion of this login");
    assert_eq!(
        idp.samlp_requests(),
        2,
        "the cached assertion was not believed"
    );
}

#[test]
fn credential_cache_answers_only_the_same_request() {
    let (env, idp, _moto, _) = world(&three_roles(), "");
    let dev = "[dev]\naws_account = sandbox\naws_role = Developer\n";
    env.write(
        ".saml-login",
        &format!(
            "{}{dev}",
            std::fs::read_to_string(env.path(".saml-login")).unwrap()
        ),
    );
    let key = |ran: &Ran| -> String {
        ran.stdout_json()["AccessKeyId"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let cp = ["-c", "dev", "credential-process"];
    let first = key(&env.call(&cp).success());
    let again = env.call(&cp).success().stderr_has(&format!(
        "using the cached credentials of arn:aws:iam::{SANDBOX}:role/Developer"
    ));
    assert_eq!(key(&again), first);
    // The section gains a session policy: not the unrestricted keys.
    env.write(
        ".saml-login",
        &format!(
            "{}policy_arns = arn:aws:iam::aws:policy/ReadOnlyAccess\n",
            std::fs::read_to_string(env.path(".saml-login")).unwrap()
        ),
    );
    let restricted = env
        .call(&cp)
        .success()
        .stderr_lacks("using the cached credentials");
    let restricted = key(&restricted);
    assert_ne!(restricted, first);
    // exec and env follow the same rule: another role is not the cached one.
    env.cmd()
        .args(["-c", "dev", "--no-cache", "env"])
        .env("SAML_LOGIN_AWS_ROLE", "Admin")
        .ran()
        .success()
        .stdout_lacks(&first)
        .stdout_lacks(&restricted);
    assert_eq!(idp.samlp_requests(), 2, "one login, then --no-cache's own");
}

/// Runs `count` saml-login processes at once with `args` and returns their outputs.
fn at_once(env: &Env, count: usize, args: &[&str]) -> Vec<Output> {
    let children: Vec<_> = (0..count)
        .map(|_| {
            env.saml_login()
                .args(args)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let guard = KillOnDrop(children);
    guard.wait_all(Duration::from_secs(90))
}

#[test]
fn parallel_callers_share_one_login() {
    // The login takes a second (the stand-in waits before its POST), so the others
    // arrive while it runs.
    let (env, idp, _moto, _) = world(&three_roles(), "--delay 1");
    env.write(
        ".saml-login",
        &format!(
            "{}[dev]\naws_account = sandbox\naws_role = Developer\n",
            std::fs::read_to_string(env.path(".saml-login")).unwrap()
        ),
    );
    let outs = at_once(&env, 8, &["-c", "dev", "credential-process"]);
    let mut keys = Vec::new();
    let mut waited = 0;
    for out in outs {
        let ran = Ran::from(out).success();
        if ran
            .stderr()
            .contains("waiting for the login in saml-login pid")
        {
            waited += 1;
        }
        keys.push(
            ran.stdout_json()["AccessKeyId"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    assert_eq!(
        idp.samlp_requests(),
        1,
        "eight callers, one login at the IdP"
    );
    assert!(waited >= 1, "the others said whom they waited for");
    keys.dedup();
    assert_eq!(
        keys.len(),
        1,
        "all eight got the one session's keys: {keys:?}"
    );
}

#[test]
fn an_idp_that_does_not_echo_relay_state_is_told_at_once() {
    // The IdP's own response (addressed to our callback, issued for this login) without
    // our RelayState ends the wait at once with what to do; it used to be refused and
    // the command waited out its whole timeout although no other post would come.
    let (env, idp, _moto, _) = world(
        &[
            "--no-relay-state-echo".into(),
            "--role".into(),
            role(SANDBOX, "Developer"),
        ],
        "",
    );
    let started = std::time::Instant::now();
    let ran = env.call(&["--timeout", "90", "get-token"]);
    let elapsed = started.elapsed();
    ran.code(1)
        .stderr_has("the IdP did not send our RelayState back")
        .stderr_has("set require_relay_state = false in a section that names one role")
        .stdout_empty()
        .check(
            elapsed < Duration::from_secs(45),
            &format!("ended {elapsed:?} after the start, not within seconds"),
        );
    assert_eq!(idp.samlp_requests(), 1);
}

#[test]
fn require_relay_state_false_takes_a_response_for_one_named_role() {
    let (env, _idp, moto, _) = world(
        &[
            "--no-relay-state-echo".into(),
            "--role".into(),
            role(SANDBOX, "Developer"),
        ],
        "",
    );
    let dev = "[dev]\nrequire_relay_state = false\naws_account = sandbox\naws_role = Developer\naws_profile = dev\n";
    env.write(
        ".saml-login",
        &format!(
            "{}{dev}",
            std::fs::read_to_string(env.path(".saml-login")).unwrap()
        ),
    );
    let stderr = env.ok(&["-c", "dev", "aws-assume-role"]);
    assert!(
        stderr.contains("the IdP sent no RelayState; the response is addressed to"),
        "{stderr}"
    );
    assert_eq!(
        caller_identity(&moto, &env.credentials_path(), "dev"),
        "arn:aws:sts::123456789012:assumed-role/Developer/developer@example.com"
    );
    let cached = env.path(".cache/saml-login/assertions");
    assert!(
        !cached.exists() || std::fs::read_dir(&cached).unwrap().next().is_none(),
        "a response without our RelayState is never cached"
    );
    // Without one named role (the roles list, the raw token) it is refused.
    for args in [
        &["-c", "dev", "aws-assume-role", "--show"][..],
        &["-c", "dev", "get-token"][..],
    ] {
        env.call(args)
            .code(1)
            .stderr_has("refused the SAML response posted without our RelayState: this command does not name one role")
            .stdout_empty();
    }
}

/// A response without RelayState is taken only when issued after the login began
/// (two minutes of clock difference allowed: 105 s old is taken, 140 s old is not) and
/// addressed to our callback; a refused one is answered 400 and the wait goes on (until
/// the timeout here, as no other post comes).
#[test]
fn require_relay_state_false_refuses_an_old_or_misaddressed_response() {
    for (idp_extra, expected) in [
        (vec!["--issued-ago", "105"], None),
        (vec!["--issued-ago", "140"], Some("before this login began")),
        (
            vec!["--callback", "http://localhost:9/elsewhere"],
            Some("it is not addressed to http://localhost:"),
        ),
    ] {
        let moto = moto();
        let port = free_port();
        // The browser stand-in posts to the form's action; for the misaddressed case
        // the IdP names another callback in the assertion, so the post is made by
        // hand, as a local program would.
        let mut args = vec![
            "--no-relay-state-echo".to_owned(),
            "--role".to_owned(),
            role(SANDBOX, "Developer"),
        ];
        args.extend(idp_extra.iter().map(|a| (*a).to_owned()));
        let misaddressed = idp_extra.contains(&"--callback");
        let idp = if misaddressed {
            let mut a = vec!["--auto-session".to_owned()];
            a.extend(args);
            crate::support::idp(&a.iter().map(String::as_str).collect::<Vec<_>>())
        } else {
            start_idp(port, &args)
        };
        let env = if misaddressed {
            // No browser: the post comes from the test, as a local program's would.
            Env::new().sts(&moto).var("BROWSER", "true")
        } else {
            Env::new().sts(&moto).test_browser("")
        };
        env.config(&format!(
            "{}[dev]\nrequire_relay_state = false\naws_account = {SANDBOX}\naws_role = Developer\naws_profile = dev\n",
            config_for(&idp, port)
        ));
        let run = ["-c", "dev", "--timeout", "8", "aws-assume-role"];
        let out = if misaddressed {
            let forged = fetch_saml_response(&idp);
            let child = env
                .saml_login()
                .args(run)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            let guard = KillOnDrop(vec![child]);
            let answer = post_form(
                port,
                &format!("localhost:{port}"),
                &[("SAMLResponse", &forged)],
            );
            assert!(
                answer.as_deref().is_some_and(|a| a.contains(" 400 ")),
                "refused with 400: {answer:?}"
            );
            guard.wait_all(Duration::from_secs(60)).pop().unwrap()
        } else {
            env.cmd().args(run).output().unwrap()
        };
        let ran = Ran::from(out).context(format!("{idp_extra:?}"));
        let Some(expected) = expected else {
            ran.success()
                .check(env.credentials().contains("[dev]"), "[dev] stored");
            continue;
        };
        let refused = ran.stderr().lines().any(|l| {
            l.starts_with(
                "saml-login: warning: refused a callback request: it carries no RelayState and ",
            ) && l.contains(expected)
                && l.ends_with("; still waiting")
        });
        ran.code(4)
            .check(refused, &format!("a refusal line naming {expected:?}"))
            .stderr_has("no login completed within 8 s")
            .check(env.credentials().is_empty(), "nothing stored");
    }
}

#[test]
fn account_and_role_select_and_the_profile_defaults_to_role_at_alias() {
    let (env, _idp, _moto, _) = world(&three_roles(), "");
    // Both given, no profile: Role@alias, as --all names it.
    env.ok(&[
        "aws-assume-role",
        "--account",
        "sandbox",
        "--role",
        "Developer",
    ]);
    assert!(env.credentials().contains("[Developer@sandbox]\n"));
    // One given that leaves one role: that role.
    env.ok(&["aws-assume-role", "--role", "Ops"]);
    assert!(env.credentials().contains("[Ops@other]\n"));
    env.ok(&["aws-assume-role", "--account", "other", "--profile", "ops"]);
    assert_eq!(
        profile_value(&env, "ops", "x_saml_login_role").as_deref(),
        Some(format!("arn:aws:iam::{OTHER}:role/Ops").as_str())
    );
    // One given that leaves several, no terminal: the error names only what is
    // missing, and the candidates.
    env.call(&["aws-assume-role", "--account", "sandbox", "--profile", "p"])
        .code(2)
        .stderr_has(
            "--role is needed to choose among Developer@sandbox, Admin@sandbox (or aws_role in the section)",
        )
        .stderr_lacks("--profile")
        .stderr_lacks("--account");
    env.call(&["aws-assume-role"])
        .code(2)
        .stderr_has("--account and --role are needed to choose among");
}

#[test]
fn parallel_headless_callers_share_one_chromium_login() {
    let (env, idp, _moto, _) = world(&three_roles(), "");
    env.write(
        ".saml-login",
        &format!(
            "{}[dev]\nbrowser = headless\naws_account = sandbox\naws_role = Developer\n",
            std::fs::read_to_string(env.path(".saml-login")).unwrap()
        ),
    );
    let outs = at_once(&env, 3, &["-c", "dev", "credential-process"]);
    for out in &outs {
        Ran::from(out).success();
    }
    assert_eq!(idp.samlp_requests(), 1, "three callers, one Chromium login");
}
