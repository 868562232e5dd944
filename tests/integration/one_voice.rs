//! One error taxonomy and one voice (issue 26, point 5): a usage error (exit 2) is only
//! what was typed on the command line, a failure at run time is exit 1; and the lines a
//! run says on stderr carry the name of the tool that runs (`aws-console:` for the
//! stand-alone console), whatever code prints them.

use crate::support::*;

/// A profile's `credential_process` that fails is a failed run (1) naming the profile
/// and the program, not a command-line usage error (2).
#[test]
fn a_failing_credential_process_is_a_failure_not_a_usage_error() {
    let env = Env::new();
    env.config("[DEFAULT]\nidp_url = https://idp.example.test\nclient_id = c\n");
    env.write(".aws/config", "[profile p]\ncredential_process = false\n");
    env.call(&["exec", "--profile", "p", "--", "true"])
        .code(1)
        .stderr_has("saml-login: error: credential_process of profile p: false failed");
}

/// The stand-alone `aws-console` resolving a chained profile says the chain's notice in
/// its own name (the code is shared with saml-login, which used to sign it).
#[test]
fn aws_console_says_a_chained_profiles_notice_in_its_own_name() {
    let moto = moto();
    let fed = Server::python("federation.py", &[]);
    let env = Env::new().sts(&moto).var(
        "SAML_LOGIN_FEDERATION_URL",
        format!("{}/federation", fed.url),
    );
    // The source: session credentials (as a saml-login profile gives), so the hop is a
    // chained session, which saml-login announces.
    env.write(
        ".aws/config",
        "[profile base]\ncredential_process = printf '{\"Version\":1,\"AccessKeyId\":\"ASIABASEEXAMPLE1\",\"SecretAccessKey\":\"base-secret\",\"SessionToken\":\"base-token\"}'\n\
         [profile deploy]\nrole_arn = arn:aws:iam::123456789012:role/Deployer\nsource_profile = base\nregion = eu-west-1\nduration_seconds = 7200\n",
    );
    env.cmd_for("aws-console")
        .args(["--profile", "deploy", "--print"])
        .ran()
        .success()
        .stderr_has(
            "aws-console: profile deploy chains on a role session, which AWS limits to 3600 s",
        )
        .stderr_lacks("saml-login:");
}

/// The lines of `stderr` that say `warning` (the one format), and whether anything came
/// out in tracing's format (`WARN ...`, only `--verbose` may show that).
#[cfg(target_os = "linux")]
fn warnings(stderr: &str) -> Vec<&str> {
    assert!(
        stderr
            .lines()
            .all(|l| !l.trim_start().starts_with("WARN") && !l.contains(" WARN ")),
        "a line in tracing's format: {stderr}"
    );
    stderr.lines().filter(|l| l.contains("warning: ")).collect()
}

/// The webview helper, a process of its own, warns in the one voice and in the caller's
/// name, without `--verbose`: a SAML form whose RelayState is another login's is refused
/// in the window, said in one line (it used to be tracing's `WARN webview: ignored an IPC
/// message page=... reason=...`), and the wait goes on to the timeout.
#[cfg(target_os = "linux")]
#[test]
fn the_webview_refuses_a_forged_form_in_one_warning_line() {
    let holder = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = holder.local_addr().unwrap().port();
    let idp = forging_idp(&format!("http://localhost:{port}/saml"));
    let env = display_env();
    env.config(&format!(
        "[DEFAULT]\nidp_url = {}\nclient_id = test-client\nlisten_port = {port}\nbrowser = webview\ntimeout = 6\n",
        idp.url
    ));
    let ran = env.call(&["get-token"]);
    let stderr = ran.stderr();
    let expected = [format!(
        "saml-login: warning: ignored a message from the page at {} in the webview: refused: its RelayState is not the one we sent; still waiting",
        idp.url
    )];
    ran.code(4).check(
        warnings(&stderr) == expected,
        &format!("the warnings are exactly {expected:?}"),
    );
    holder.set_nonblocking(true).unwrap();
    assert!(holder.accept().is_err(), "the forged form reached the port");
}

/// pkce-login's webview login: the redirect carrying another login's `state` is refused
/// in one warning line signed `pkce-login` (the helper takes its caller's name from the
/// request), not saml-login's, and not only under `--verbose`.
#[cfg(target_os = "linux")]
#[test]
fn the_webview_helper_warns_in_pkce_logins_name() {
    let holder = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = holder.local_addr().unwrap().port();
    let idp = idp(&["--auto-session", "--state-override", "another-login"]);
    let env = display_env();
    env.write(
        ".pkce-login",
        &format!(
            "[DEFAULT]\nidp_url = {}\nclient_id = test-client\nlisten_port = {port}\nbrowser = webview\ntimeout = 6\n",
            idp.url
        ),
    );
    let ran = env.cmd_for("pkce-login").arg("get-id-jwt").ran();
    let stderr = ran.stderr();
    let expected = [
        "pkce-login: warning: refused a navigation to the callback in the webview: its state is not the one we sent; still waiting",
    ];
    ran.code(4)
        .check(
            warnings(&stderr) == expected,
            &format!("the warnings are exactly {expected:?}"),
        )
        .stderr_lacks("saml-login");
    holder.set_nonblocking(true).unwrap();
    assert!(holder.accept().is_err(), "the redirect reached the port");
}

/// Headless Chromium's refusal of a forged post is the same one line with `--verbose`
/// as without it (it used to come out in tracing's format, `WARN refused ...`, under
/// `--verbose`): the one voice does not depend on the trace being on.
#[test]
fn headless_refusals_are_one_warning_line_with_or_without_verbose() {
    let _serial = serial();
    let holder = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = holder.local_addr().unwrap().port();
    let idp = forging_idp(&format!("http://localhost:{port}/saml"));
    let env = Env::new();
    env.config(&format!(
        "[DEFAULT]\nidp_url = {}\nclient_id = test-client\nlisten_port = {port}\nbrowser = headless\nheadless_mode = chromium\ntimeout = 6\n",
        idp.url
    ));
    for verbose in [false, true] {
        let mut args = vec!["--no-cache", "get-token"];
        if verbose {
            args.insert(0, "--verbose");
        }
        let ran = env.call(&args);
        let stderr = ran.stderr();
        let refusals: Vec<&str> = stderr
            .lines()
            .filter(|l| l.contains("refused a callback request"))
            .collect();
        let expected = [
            "saml-login: warning: refused a callback request: its RelayState is not the one we sent; still waiting",
        ];
        ran.code(4).check(
            refusals == expected,
            &format!("the refusals are exactly {expected:?}"),
        );
    }
    holder.set_nonblocking(true).unwrap();
    assert!(holder.accept().is_err(), "the forged post reached the port");
}

/// The webview helper traces under its caller's `--verbose` (the request tells it; its
/// trace used to need `SAML_LOGIN_WEBVIEW_LOG`), and writes no trace without it: its
/// line `webview opened` comes only from the helper's own trace.
#[cfg(target_os = "linux")]
#[test]
fn the_webview_helper_traces_under_verbose_only() {
    let idp = idp(&["--auto-session"]);
    let env = display_env();
    env.config(&format!(
        "[DEFAULT]\nidp_url = {}\nclient_id = test-client\nbrowser = webview\ntimeout = 60\n",
        idp.url
    ));
    for verbose in [false, true] {
        let mut args = vec!["--no-cache", "--fresh", "get-token"];
        if verbose {
            args.insert(0, "--verbose");
        }
        let ran = env
            .call(&args)
            .context(format!("verbose: {verbose}"))
            .success();
        let traced = ran.stderr().contains("webview opened");
        ran.check(
            traced == verbose,
            "the helper's trace (`webview opened`) is there exactly under --verbose",
        );
    }
}
