//! The console one account at a time side by side (issue 34): real Chromium under Xvfb
//! with a browser profile per AWS profile (`--browser-profile`, `browser_profile`), a
//! loopback stand-in for the federation endpoint and the console on made-up hosts
//! (`*.aws.test`, see `tests/support/console.rs`), deep links and regions, the sign-out
//! in a profile's browser, and several accounts in one shared profile (multi-session).
//! Screenshots go to `target/test-output/console_profiles/TEST/`.

use std::time::{Duration, Instant};

use crate::support::console::{BrowserGuard, ConsoleWorld, browsers_of};
use crate::support::*;

const CREDENTIALS: &str = "[dev]\naws_access_key_id = ASIADEV\naws_secret_access_key = devSecret\naws_session_token = devToken\n\
[prod]\naws_access_key_id = ASIAPROD\naws_secret_access_key = prodSecret\naws_session_token = prodToken\n";

/// Run saml-login with `args` to its end (at most 120 s), reading the command line of
/// every browser process of the test's HOME meanwhile: its stderr, and those lines.
fn run_watching_argv(w: &ConsoleWorld, args: &[&str]) -> (String, Vec<String>) {
    let mut cmd = w.env.saml_login();
    cmd.args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut run = GroupGuard::spawn(cmd);
    let mut argv = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        argv.extend(browsers_of(&w.env).into_iter().map(|(_, c)| c));
        if let Some(status) = run.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "{args:?} still running after 120 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    argv.extend(browsers_of(&w.env).into_iter().map(|(_, c)| c));
    let mut stderr = String::new();
    std::io::Read::read_to_string(run.child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    assert!(status.success(), "{args:?}: {stderr}");
    (stderr, argv)
}

fn q<'a>(r: &'a serde_json::Value, k: &str) -> &'a str {
    r["query"][k].as_str().unwrap_or_default()
}

fn cookie<'a>(r: &'a serde_json::Value, k: &str) -> Option<&'a str> {
    r["cookies"][k].as_str()
}

/// The SigninTokens the stand-in handed out.
fn issued_tokens(w: &ConsoleWorld) -> Vec<String> {
    w.requests()
        .iter()
        .filter(|r| q(r, "Action") == "login")
        .map(|r| q(r, "SigninToken").to_owned())
        .collect()
}

fn assert_no_token_on_any_command_line(w: &ConsoleWorld, argv: &[String]) {
    let tokens = issued_tokens(w);
    assert!(!tokens.is_empty());
    assert!(!argv.is_empty(), "no browser process was seen");
    for line in argv {
        assert!(!line.contains("SigninToken"), "{line}");
        for t in &tokens {
            assert!(
                !line.contains(t.as_str()),
                "the token is on a command line: {line}"
            );
        }
    }
}

#[test]
fn two_accounts_two_browser_profiles_each_with_its_own_console_cookie_and_deep_link() {
    let _serial = serial();
    // One browser profile per AWS profile, from the configuration.
    let w = ConsoleWorld::new("two_accounts_two_browser_profiles")
        .credentials(CREDENTIALS)
        .defaults("browser_profile = true\n");
    let _browsers = BrowserGuard(&w.env);
    let (dev_err, mut argv) = run_watching_argv(
        &w,
        &[
            "aws-console",
            "--profile",
            "dev",
            "--service",
            "s3",
            "--region",
            "eu-west-1",
        ],
    );
    assert!(dev_err.contains("browser profile \"dev\""), "{dev_err}");
    let dev_page = w.wait_for_request(Duration::from_secs(90), "dev's console page", |r| {
        r["host"] == "console.aws.test" && r["path"] == "/s3/home"
    });
    assert_eq!(q(&dev_page, "region"), "eu-west-1");
    assert_eq!(cookie(&dev_page, "aws-session"), Some("ASIADEV"));
    w.screenshot("1-dev-s3-eu-west-1");

    let (_, more) = run_watching_argv(
        &w,
        &[
            "aws-console",
            "--profile",
            "prod",
            "--destination",
            "http://console.aws.test/ec2/home?region=us-west-2#Instances",
            "--region",
            "us-west-2",
        ],
    );
    argv.extend(more);
    let prod_page = w.wait_for_request(Duration::from_secs(90), "prod's console page", |r| {
        r["host"] == "console.aws.test" && r["path"] == "/ec2/home"
    });
    assert_eq!(q(&prod_page, "region"), "us-west-2");
    assert_eq!(cookie(&prod_page, "aws-session"), Some("ASIAPROD"));
    w.screenshot("2-prod-ec2-us-west-2");
    assert_no_token_on_any_command_line(&w, &argv);

    // Each profile directory is private and holds only its own account's session: ask
    // each browser for a console page, as a person would.
    let (dev_dir, prod_dir) = (w.identity_dir("dev"), w.identity_dir("prod"));
    for dir in [&dev_dir, &prod_dir] {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700, "{}", dir.display());
    }
    w.open_in(&dev_dir, "http://console.aws.test/probe?who=dev");
    w.open_in(&prod_dir, "http://console.aws.test/probe?who=prod");
    for (who, account) in [("dev", "ASIADEV"), ("prod", "ASIAPROD")] {
        let probe = w.wait_for_request(Duration::from_secs(60), &format!("{who}'s probe"), |r| {
            r["path"] == "/probe" && q(r, "who") == who
        });
        assert_eq!(cookie(&probe, "aws-session"), Some(account), "{probe}");
    }
    w.screenshot("3-probes");
    // Both runs used browser processes of their own profile directory.
    let argv = argv.join("\n");
    assert!(
        argv.contains(&format!("--user-data-dir={}", dev_dir.display())),
        "{argv}"
    );
    assert!(
        argv.contains(&format!("--user-data-dir={}", prod_dir.display())),
        "{argv}"
    );
}

#[test]
fn logout_opens_the_sign_out_in_that_profiles_browser() {
    let _serial = serial();
    let w = ConsoleWorld::new("logout").credentials(CREDENTIALS);
    let _browsers = BrowserGuard(&w.env);
    run_watching_argv(
        &w,
        &["aws-console", "--profile", "dev", "--browser-profile"],
    );
    w.wait_for_request(Duration::from_secs(90), "dev's console page", |r| {
        r["host"] == "console.aws.test" && cookie(r, "aws-session") == Some("ASIADEV")
    });
    let before = w.requests().len();
    let (stderr, _) = run_watching_argv(
        &w,
        &[
            "aws-console",
            "--profile",
            "dev",
            "--browser-profile",
            "--logout",
            "--region",
            "eu-central-1",
        ],
    );
    let logout = w.wait_for_request(Duration::from_secs(60), "the sign-out", |r| {
        r["path"] == "/oauth" && q(r, "Action") == "logout"
    });
    // It came from dev's browser (it carried dev's session), and nothing signed in.
    assert_eq!(cookie(&logout, "aws-session"), Some("ASIADEV"), "{logout}");
    assert_eq!(
        q(&logout, "redirect_uri"),
        "http://console.aws.test/console/home?region=eu-central-1"
    );
    let after = w.wait_for_request(
        Duration::from_secs(60),
        "the page after the sign-out",
        |r| {
            r["host"] == "console.aws.test"
                && r["path"] == "/console/home"
                && q(r, "region") == "eu-central-1"
        },
    );
    assert_eq!(cookie(&after, "aws-session"), None, "{after}");
    let new: Vec<_> = w.requests().split_off(before);
    assert!(
        new.iter().all(|r| r["path"] != "/federation"),
        "--logout asked for no sign-in: {new:#?} ({stderr})"
    );
    w.screenshot("signed-out");
}

#[test]
fn a_second_account_in_a_shared_browser_profile_adds_a_session() {
    let _serial = serial();
    // Both AWS profiles share the browser profile "team" (SAML_LOGIN_BROWSER_PROFILE).
    let mut w = ConsoleWorld::new("multi_session").credentials(CREDENTIALS);
    w.env
        .vars
        .push(("SAML_LOGIN_BROWSER_PROFILE".into(), "team".into()));
    let _browsers = BrowserGuard(&w.env);
    let team = w.identity_dir("team");
    // The person opted in to the console's multi-session in this browser profile.
    w.open_in(&team, "http://signin.aws.test/sessions/v1/opt-in");
    w.wait_for_request(Duration::from_secs(90), "the opt-in", |r| {
        r["path"] == "/sessions/v1/opt-in"
    });
    let (_, mut argv) = run_watching_argv(&w, &["aws-console", "--profile", "dev"]);
    w.wait_for_request(Duration::from_secs(90), "dev's console page", |r| {
        r["host"] == "console.aws.test" && cookie(r, "aws-session-ASIADEV").is_some()
    });
    let (_, more) = run_watching_argv(
        &w,
        &["aws-console", "--profile", "prod", "--service", "iam"],
    );
    argv.extend(more);
    let both = w.wait_for_request(Duration::from_secs(90), "prod's console page", |r| {
        r["host"] == "console.aws.test" && r["path"] == "/iam/home"
    });
    assert_eq!(
        cookie(&both, "aws-session-ASIAPROD"),
        Some("ASIAPROD"),
        "{both}"
    );
    assert_eq!(
        cookie(&both, "aws-session-ASIADEV"),
        Some("ASIADEV"),
        "the second account replaced the first: {both}"
    );
    assert!(
        w.requests().iter().all(|r| r["path"] != "/oauth"),
        "nothing signed out in between"
    );
    w.screenshot("two-sessions");
    assert_no_token_on_any_command_line(&w, &argv);
    assert!(!w.env.path(".local/share/saml-login/console/dev").exists());
}

#[test]
fn bad_console_values_give_one_line_and_exit_2() {
    let w = ConsoleWorld::new("bad_values").credentials(CREDENTIALS);
    for (args, says) in [
        (
            &["--service", "S3!"][..],
            "--service \"S3!\" is not a console service name",
        ),
        (
            &["--region", "mars"][..],
            "--region \"mars\" is not an AWS region",
        ),
        (
            &["--destination", "https://evil.example/x"][..],
            "is not a page of the console",
        ),
        (
            &["--service", "s3", "--destination", "ec2"][..],
            "cannot be used with",
        ),
        (
            &["--browser-profile", "../x"][..],
            "is not a browser profile name",
        ),
    ] {
        let mut all = vec!["aws-console", "--profile", "dev"];
        all.extend_from_slice(args);
        w.env.call(&all).code(2).stderr_has(says).stdout_empty();
    }
    assert!(w.requests().is_empty(), "no bad value reached the network");
    assert!(!w.env.path(".local/share/saml-login/console").exists());
}
