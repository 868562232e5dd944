//! Every failure explained, help that scans (issue 15): through the real binary, each
//! message and exit code a person meets on a first run, a broken response, a broken
//! STS, a missing command; the help, the manual page and the completions; `logout`.

#[cfg(unix)]
use std::os::unix::fs::PermissionsExt;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::support::*;

const SANDBOX: &str = "123456789012";

/// A fixture response (base64) written into the test's HOME.
fn saved(env: &Env, fixture: &str) -> std::path::PathBuf {
    let text = std::fs::read_to_string(repo().join("fixtures/saml").join(fixture)).unwrap();
    let b64 = if fixture.ends_with(".xml") {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(text)
    } else {
        text
    };
    env.write("saved.b64", &b64)
}

/// moto and a HOME whose [dev] names one role, with a saved response for it.
#[cfg(unix)]
fn one_role_world() -> (Env, Server, Server) {
    let w = World::new()
        .no_callback()
        .no_browser()
        .section(
            "dev",
            &format!("aws_account = {SANDBOX}\naws_role = Developer\naws_profile = dev\n"),
        )
        .saved_response()
        .build();
    (w.env, w.moto.unwrap(), w.idp)
}

#[test]
fn first_run_without_a_configuration_file_says_it_does_not_exist() {
    let env = Env::new();
    env.call(&["get-token"])
        .code(1)
        .stderr_starts(&format!(
            "saml-login: error: {} does not exist (no configuration yet); it needs at least:\n\n[DEFAULT]\nidp_url = https://YOUR-TENANT.auth0.com\nclient_id = YOUR-CLIENT-ID\n",
            env.path(".saml-login").display()
        ))
        .stderr_lacks("is missing from section");
    assert!(!env.path(".saml-login").exists(), "no file written");

    // pkce-login the same, for its own file.
    env.cmd_for("pkce-login")
        .arg("get-id-jwt")
        .ran()
        .code(1)
        .stderr_starts(&format!(
            "pkce-login: error: {} does not exist (no configuration yet); it needs at least:\n",
            env.path(".pkce-login").display()
        ));
}

#[test]
fn unknown_key_warns_with_did_you_mean() {
    let env = Env::new();
    env.config(
        "[DEFAULT]\nidp_url = https://x.example\nclient_id = c\n[dev]\naws_rol = Developer\n",
    );
    let response = saved(&env, "auth0-one-role.b64");
    env.cmd()
        .args(["-c", "dev", "--saml-response-file"])
        .arg(&response)
        .args(["aws-assume-role", "--show"])
        .ran()
        .code(0)
        .stderr_eq(&format!(
            "saml-login: warning: unknown key aws_rol in [dev] of {}; did you mean aws_role?\n\
             saml-login: warning: the saved SAML response expired at 2019-01-12 10:24 UTC (its NotOnOrAfter); STS refuses an expired assertion: save a new one\n",
            env.path(".saml-login").display()
        ));
}

#[test]
fn config_file_in_the_working_directory_is_not_read_silently() {
    let env = Env::new();
    let project = env.path("project");
    std::fs::create_dir_all(&project).unwrap();
    std::fs::write(
        project.join(".saml-login"),
        "[DEFAULT]\nidp_url = https://phish.example\nclient_id = c\n",
    )
    .unwrap();
    env.cmd()
        .current_dir(&project)
        .arg("get-token")
        .ran()
        .code(1)
        .stderr_starts("saml-login: note: not reading ./.saml-login (a file in the working directory could point the login at any page); to use it: --config ./.saml-login\n")
        .stderr_has("does not exist");
    // Named explicitly, it is used (and no note).
    env.cmd()
        .current_dir(&project)
        .args(["--config", "./.saml-login", "__sections"])
        .ran()
        .code(0)
        .stdout_eq("DEFAULT\n")
        .stderr_eq("");
}

#[test]
fn truncated_response_is_not_well_formed_xml() {
    let env = Env::new();
    env.config("[DEFAULT]\nidp_url = https://x.example\nclient_id = c\n");
    let response = saved(&env, "truncated.xml");
    env.cmd()
        .arg("--saml-response-file")
        .arg(&response)
        .args(["aws-assume-role", "--show"])
        .ran()
        .code(1)
        .stderr_eq("saml-login: error: the SAML response is not well-formed XML (line 6, column 1: the document ends before its elements are closed (truncated?))\n");
}

#[test]
fn sts_http_500_names_status_and_endpoint_at_once_and_exits_1() {
    // moto answers HTTP 500 (an HTML page) to a Role attribute of two values.
    let moto = moto();
    let idp = idp(&[
        "--auto-session",
        "--role",
        &format!("{ROLE},{PROVIDER}"),
        "--role",
        &format!("arn:aws:iam::{SANDBOX}:role/Admin,{PROVIDER}"),
    ]);
    let env = Env::new().sts(&moto);
    env.config(&config_for(&idp, free_port()));
    env.write("saved.b64", &fetch_saml_response(&idp));
    let started = Instant::now();
    let ran = env
        .cmd()
        .arg("--saml-response-file")
        .arg(env.path("saved.b64"))
        .args([
            "aws-assume-role",
            "--account",
            SANDBOX,
            "--role",
            "Developer",
        ])
        .ran();
    let took = started.elapsed();
    ran.code(1).stderr_eq(&format!(
        "saml-login: error: STS at {} answered HTTP 500 Internal Server Error (not an STS reply); try again\n",
        moto.url
    ));
    assert!(took < Duration::from_secs(2), "no silent retries: {took:?}");
    assert_eq!(env.credentials(), "");
}

#[cfg(unix)]
#[test]
fn exec_missing_command_is_127_and_not_executable_is_126_and_env_takes_any_shell() {
    let (env, _moto, _idp) = one_role_world();
    let response = env.path("saved.b64");
    let run = |args: &[&str], shell: Option<&str>| {
        let mut cmd = env.cmd();
        if let Some(shell) = shell {
            cmd.env("SHELL", shell);
        }
        cmd.args(["-c", "dev", "--saml-response-file"])
            .arg(&response)
            .args(args)
            .ran()
    };

    run(&["exec", "--", "/nonexistent/cmd"], None)
        .code(127)
        .stderr_matches(r"saml-login: error: /nonexistent/cmd: command not found\n\z");

    let script = env.write("not-executable.sh", "#!/bin/sh\nexit 0\n");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o644)).unwrap();
    run(&["exec", "--", script.to_str().unwrap()], None)
        .code(126)
        .stderr_has(&format!(
            "saml-login: error: {}: Permission denied",
            script.display()
        ));

    for shell in ["bash", "zsh", "sh"] {
        run(&["env", "--shell", shell], None)
            .context(shell)
            .code(0)
            .stdout_matches(r"\Aexport AWS_ACCESS_KEY_ID='");
    }
    // Without --shell: the kind of $SHELL.
    run(&["env"], Some("/usr/bin/fish"))
        .code(0)
        .stdout_matches(r"\Aset -gx AWS_ACCESS_KEY_ID '");
    run(&["env"], Some("/bin/zsh")).stdout_matches(r"\Aexport AWS_ACCESS_KEY_ID='");
}

#[test]
fn ctrl_c_in_the_role_picker_exits_130() {
    let env = Env::new();
    env.config("[DEFAULT]\nidp_url = https://x.example\nclient_id = c\n");
    let response = saved(&env, "two-roles-two-accounts.xml");
    // A terminal for the picker: Python's pty runs saml-login, waits for the
    // question, types Ctrl-C and reports the exit status.
    let driver = r#"
import os, pty, sys, time, select, termios
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
seen, deadline = b"", time.time() + 20
while b"Which role?" not in seen and time.time() < deadline:
    r, _, _ = select.select([fd], [], [], 0.2)
    if r:
        try:
            seen += os.read(fd, 4096)
        except OSError:
            break
if b"Which role?" not in seen:
    os.kill(pid, 9)
    print("no picker:", seen.decode(errors="replace"))
    sys.exit(1)
# Ctrl-C once the picker reads keys (the terminal in raw mode), as a person would.
while termios.tcgetattr(fd)[3] & termios.ICANON and time.time() < deadline:
    time.sleep(0.02)
os.write(fd, b"\x03")
end = time.time() + 20
while time.time() < end:
    done, status = os.waitpid(pid, os.WNOHANG)
    if done:
        break
    r, _, _ = select.select([fd], [], [], 0.2)
    if r:
        try:
            seen += os.read(fd, 4096)
        except OSError:
            pass
else:
    os.kill(pid, 9)
    print("still running")
    sys.exit(1)
# The child is gone: read what it wrote last, until the terminal says end of file (EIO)
# or is quiet for 2 s (a loaded machine may reap it before its last line is read).
while True:
    r, _, _ = select.select([fd], [], [], 2)
    if not r:
        break
    try:
        chunk = os.read(fd, 4096)
    except OSError:
        break
    if not chunk:
        break
    seen += chunk
print("exit", os.waitstatus_to_exitcode(status))
print(seen.decode(errors="replace"))
"#;
    env.command(python())
        .args(["-c", driver])
        .arg(assert_cmd::cargo::cargo_bin("saml-login"))
        .arg("--saml-response-file")
        .arg(&response)
        .arg("aws-assume-role")
        .env("TERM", "xterm")
        .stdin(Stdio::null())
        .ran()
        .stdout_matches("\\Aexit 130\n")
        .stdout_has("saml-login: error: interrupted")
        .stdout_lacks("IO error");
}

#[test]
fn verbose_output_has_no_colour_in_a_pipe() {
    let env = Env::new();
    env.config("[DEFAULT]\nidp_url = https://x.example\nclient_id = c\n");
    let response = saved(&env, "auth0-one-role.b64");
    // An STS where nothing listens: the run traces its call, then fails.
    env.cmd()
        .env_remove("NO_COLOR")
        .env(
            "AWS_ENDPOINT_URL_STS",
            format!("http://127.0.0.1:{}", free_port()),
        )
        .args(["--verbose", "--saml-response-file"])
        .arg(&response)
        .args([
            "aws-assume-role",
            "--account",
            "245111612214",
            "--role",
            "OAuthAdministrator",
        ])
        .ran()
        .code(1)
        .stderr_has("DEBUG calling STS AssumeRoleWithSAML")
        // No ANSI escapes in a pipe.
        .stderr_lacks("\x1b");
}

#[cfg(unix)]
#[test]
fn symlinked_credentials_file_is_written_through_to_its_target() {
    let (env, moto, _idp) = one_role_world();
    let target = env.write(
        "dotfiles/aws-credentials",
        "[keep]\naws_access_key_id = AKIAKEEP\n",
    );
    std::fs::create_dir_all(env.path(".aws")).unwrap();
    std::os::unix::fs::symlink("../dotfiles/aws-credentials", env.credentials_path()).unwrap();
    env.cmd()
        .args(["-c", "dev", "--saml-response-file"])
        .arg(env.path("saved.b64"))
        .arg("aws-assume-role")
        .ran()
        .code(0);
    let link = std::fs::symlink_metadata(env.credentials_path()).unwrap();
    assert!(link.file_type().is_symlink(), "the link stays a link");
    let text = std::fs::read_to_string(&target).unwrap();
    assert!(
        text.starts_with("[keep]\naws_access_key_id = AKIAKEEP\n"),
        "{text}"
    );
    assert!(text.contains("[dev]\naws_access_key_id = "), "{text}");
    let mode = std::fs::metadata(&target).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    // AWS's own reader, through the link, sees the new keys.
    assert!(caller_identity(&moto, &env.credentials_path(), "dev").contains("Developer"));
}

#[test]
fn logout_forgets_the_assertion_the_keys_and_the_webview_session_of_that_idp() {
    let World {
        env,
        idp,
        moto: _moto,
        ..
    } = World::new()
        .section(
            "dev",
            &format!("aws_account = {SANDBOX}\naws_role = Developer\n"),
        )
        .build();
    let cache = env.path(".cache/saml-login");
    let ok = |args: &[&str]| env.call(args).code(0).stderr();
    ok(&["-c", "dev", "credential-process"]);
    let files = |dir: &str| {
        std::fs::read_dir(cache.join(dir))
            .map(|d| d.count())
            .unwrap_or(0)
    };
    assert_eq!(files("assertions"), 1);
    assert_eq!(files("credentials"), 1);
    // Another IdP's cached keys, and the webview sessions of both IdPs.
    let other_keys = cache.join("credentials/other.json");
    std::fs::write(
        &other_keys,
        r#"{"identity":"x","idp":"https://other.example/samlp/c","role_arn":"r","access_key_id":"A","secret_access_key":"s","session_token":"t","expiration":"2099-01-01T00:00:00Z"}"#,
    )
    .unwrap();
    let webview = env.path(".local/share/saml-login/webview");
    let ours = webview.join(format!("127.0.0.1_{}", idp.port));
    let theirs = webview.join("other.example_443");
    for dir in [&ours, &theirs] {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join("cookies"), "session").unwrap();
    }

    env.call(&["-c", "dev", "logout"]).code(0).stderr_eq(&format!(
        "saml-login: logged out of {}/samlp/test-client: removed the cached SAML assertion, 1 cached credential(s), the remembered webview session\n",
        idp.url
    ));
    assert_eq!(files("assertions"), 0);
    assert!(other_keys.exists(), "another IdP's keys stay");
    assert_eq!(files("credentials"), 1);
    assert!(!ours.exists());
    assert!(theirs.exists(), "another IdP's session stays");

    // The next command logs in again.
    env.call(&["-c", "dev", "credential-process"])
        .code(0)
        .stderr_lacks("using the");

    env.call(&["logout", "--all"]).code(0).stderr_starts("saml-login: logged out of every IdP: removed the cached SAML assertion, 2 cached credential(s), the remembered webview session");
    assert_eq!(files("credentials"), 0);
    assert!(!webview.exists());

    env.call(&["-c", "dev", "logout", "--all"]).code(2);
}

#[test]
fn help_groups_options_shows_variables_and_examples() {
    let env = Env::new();
    let help = |args: &[&str]| env.call(args).code(0).stdout();
    let exec = help(&["exec", "--help"]);
    let at = |h: &str| {
        exec.find(h)
            .unwrap_or_else(|| panic!("{h} missing: {exec}"))
    };
    assert!(at("\nOptions:") < at("\nLogin:"), "{exec}");
    assert!(at("\nLogin:") < at("\nBrowser:"), "{exec}");
    assert!(at("\nBrowser:") < at("\nConfiguration:"), "{exec}");
    assert!(at("\nConfiguration:") < at("\nExamples:"), "{exec}");
    assert!(exec.contains("[env: SAML_LOGIN_IDP_URL]"), "{exec}");
    assert!(exec.contains("they are on disk"), "{exec}");
    assert!(help(&["env", "--help"]).contains("they are on disk"));
    let assume = help(&["aws-assume-role", "--help"]);
    assert!(assume.contains("[env: SAML_LOGIN_AWS_ROLE]"), "{assume}");

    let top = help(&["--help"]);
    let commands: Vec<&str> = top
        .split("Commands:\n")
        .nth(1)
        .unwrap()
        .lines()
        .take_while(|l| l.starts_with("  "))
        .filter(|l| !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .collect();
    assert!(commands.contains(&"logout"), "{commands:?}");
    for command in &commands {
        let text = help(&[command, "--help"]);
        let examples = text
            .split("Examples:\n")
            .nth(1)
            .unwrap_or_else(|| panic!("{command} --help has no examples"));
        let lines = examples.lines().take_while(|l| !l.is_empty()).count();
        assert!(lines >= 2, "{command}: {lines} examples");
    }
    for command in ["completions", "man"] {
        let text = help(&[command, "--help"]);
        assert!(!text.contains("--idp-url"), "{command}: {text}");
        assert!(!text.contains("Browser:"), "{command}: {text}");
    }
}

/// The README's exit-code table as (code, meaning) rows.
fn readme_exit_codes() -> Vec<(i32, String)> {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let table = readme.split("### Exit codes\n").nth(1).unwrap();
    table
        .lines()
        .skip_while(|l| !l.starts_with("| code"))
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .map(|l| {
            let cells: Vec<&str> = l.trim_matches('|').split('|').map(str::trim).collect();
            (cells[0].parse().unwrap(), cells[1].to_owned())
        })
        .collect()
}

#[test]
fn man_page_reads_as_one_page_with_environment_files_and_exit_status() {
    let env = Env::new();
    let roff = env.call(&["man"]).code(0).stdout();
    for section in [
        ".SH COMMANDS",
        ".SH OPTIONS",
        ".SH ENVIRONMENT",
        ".SH FILES",
        ".SH EXIT STATUS",
        ".SH EXAMPLES",
    ] {
        assert!(roff.contains(section), "{section} missing");
    }
    assert!(
        !roff.contains("saml-login-"),
        "names a page that does not exist"
    );
    assert!(roff.contains("\\fBSAML_LOGIN_IDP_URL\\fR"));

    // Rendered by man(1): the examples keep their lines.
    let page = env.write("saml-login.1", &roff);
    let text = env
        .command("man")
        .arg("-l")
        .arg(&page)
        .env("MANWIDTH", "120")
        .env("MAN_KEEP_FORMATTING", "0")
        .ran()
        .success()
        .stdout();
    assert!(
        text.lines()
            .any(|l| l.trim() == "saml-login logout --all                              every IdP"),
        "{text}"
    );

    // EXIT STATUS lists exactly the README's table.
    let exit_status = roff.split(".SH EXIT STATUS\n").nth(1).unwrap();
    let from_man: Vec<i32> = exit_status
        .split(".TP\n\\fB")
        .skip(1)
        .map(|t| t.split("\\fR").next().unwrap().parse().unwrap())
        .collect();
    let readme = readme_exit_codes();
    assert_eq!(
        from_man,
        readme.iter().map(|(c, _)| *c).collect::<Vec<_>>(),
        "README table vs the binary"
    );
    for (code, meaning) in &readme {
        let row = exit_status
            .split(&format!(".TP\n\\fB{code}\\fR\n"))
            .nth(1)
            .unwrap()
            .lines()
            .next()
            .unwrap()
            .replace("\\-", "-");
        assert_eq!(&row, meaning, "exit {code}");
    }
}

#[test]
fn completion_of_c_offers_the_sections_in_bash_zsh_and_fish() {
    let env = Env::new();
    env.config("[DEFAULT]\nidp_url = https://x.example\nclient_id = c\n[dev]\n[prod-admin]\n");
    let bin_dir = assert_cmd::cargo::cargo_bin("saml-login")
        .parent()
        .unwrap()
        .to_owned();
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap());
    let script = |shell: &str| {
        let text = env.call(&["completions", shell]).code(0).stdout();
        env.write(&format!("complete.{shell}"), &text)
    };
    let shell = |program: &str, code: String| {
        env.command(
            which(program)
                .unwrap_or_else(|| panic!("{program} is installed (scripts/install-deps.sh)")),
        )
        .args(["-c", &code])
        .env("PATH", &path)
        .ran()
        .success()
        .stdout()
    };

    let bash = script("bash");
    let got = shell(
        "bash",
        format!(
            "source {}; COMP_WORDS=(saml-login -c p); COMP_CWORD=2; _saml_login_with_sections saml-login p -c; echo \"${{COMPREPLY[@]}}\"",
            bash.display()
        ),
    );
    assert_eq!(got, "prod-admin\n");
    let got = shell(
        "bash",
        format!(
            "source {}; COMP_WORDS=(saml-login --configuration ''); COMP_CWORD=2; _saml_login_with_sections; echo \"${{COMPREPLY[@]}}\"",
            bash.display()
        ),
    );
    assert_eq!(got, "DEFAULT dev prod-admin\n");

    let fish = script("fish");
    let got = shell(
        "fish",
        format!("source {}; complete -C 'saml-login -c '", fish.display()),
    );
    let offered: Vec<&str> = got.lines().map(|l| l.split('\t').next().unwrap()).collect();
    assert_eq!(offered, ["DEFAULT", "dev", "prod-admin"], "{got}");

    let zsh = script("zsh");
    let text = std::fs::read_to_string(&zsh).unwrap();
    assert!(text.contains(":SECTION:_saml_login_sections'"), "{text}");
    // The function the script declares, run in zsh with _describe showing its list.
    let function: String = text
        .split("_saml_login_sections() {")
        .nth(1)
        .unwrap()
        .split("\n}\n")
        .next()
        .unwrap()
        .to_owned();
    let got = shell(
        "zsh",
        format!("_describe() {{ print -rl -- \"${{(@P)4}}\" }}; f() {{{function}\n}}; f"),
    );
    assert_eq!(got, "DEFAULT\ndev\nprod-admin\n");
}

#[test]
fn pkce_access_token_without_audience_warns_and_busy_port_names_pkce_callback_url() {
    let env = Env::new();
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port();
    env.write(
        ".pkce-login",
        &format!(
            "[DEFAULT]\nidp_url = https://x.example\nclient_id = c\nbrowser = system\ntimeout = 5\npkce_callback_url = http://127.0.0.1:{port}/callback\n"
        ),
    );
    env.cmd_for("pkce-login")
        .args(["--no-open", "get-access-jwt"])
        .ran()
        .code(1)
        // The first line is the warning.
        .stderr_starts("pkce-login: warning: no audience (--audience, or `audience` in the section): Auth0 then issues an opaque access token, not a JWT; give the identifier of the API the token is for\n")
        .stderr_has(&format!("pkce-login: error: port {port} on 127.0.0.1 is already in use; stop the program holding it or choose another `pkce_callback_url`\n  hint: set `pkce_callback_url` in the configuration section"))
        .stderr_lacks("listen_port");
    drop(busy);
}

/// Run saml-login on a terminal (Python's pty) for at most `limit`, and return the
/// screen a terminal would show: a small emulator of 80 columns applies carriage
/// returns, line feeds, autowrap, cursor-up and erase-line, as indicatif uses them.
fn screen_of(env: &Env, args: &[&str], limit: Duration) -> String {
    let driver = r#"
import os, pty, sys, time, select
limit = float(sys.argv[1])
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[2], sys.argv[2:])
raw, end = b"", time.time() + limit
while time.time() < end:
    r, _, _ = select.select([fd], [], [], 0.1)
    if r:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        raw += chunk
try:
    os.kill(pid, 9)
except ProcessLookupError:
    pass
os.waitpid(pid, 0)
rows, row, col, i, text = [[]], 0, 0, 0, raw.decode(errors="replace")
while i < len(text):
    c = text[i]
    if c == "\x1b" and text[i + 1:i + 2] == "[":
        j = i + 2
        while j < len(text) and not text[j].isalpha():
            j += 1
        arg, cmd = text[i + 2:j], text[j:j + 1]
        if cmd == "A":
            row = max(0, row - int(arg or 1))
        elif cmd == "K":
            rows[row] = rows[row][:col] if arg in ("", "0") else []
        elif cmd == "G":
            col = int(arg or 1) - 1
        i = j + 1
        continue
    if c == "\r":
        col = 0
    elif c == "\n":
        row += 1
        col = 0
        while len(rows) <= row:
            rows.append([])
    else:
        if col >= 80:  # autowrap, as a terminal of 80 columns does
            row += 1
            col = 0
            while len(rows) <= row:
                rows.append([])
        line = rows[row]
        while len(line) < col:
            line.append(" ")
        if col < len(line):
            line[col] = c
        else:
            line.append(c)
        col += 1
    i += 1
print("\n".join("".join(r) for r in rows))
"#;
    env.command(python())
        .args(["-c", driver, &limit.as_secs_f64().to_string()])
        .arg(assert_cmd::cargo::cargo_bin("saml-login"))
        .args(args)
        .env("TERM", "xterm")
        .stdin(Stdio::null())
        .ran()
        .success()
        .stdout()
}

#[test]
fn spinner_does_not_overwrite_the_login_url_line() {
    let env = Env::new();
    let port = free_port();
    env.config(&format!(
        "[DEFAULT]\nidp_url = http://127.0.0.1:{}\nclient_id = c\nlisten_port = {port}\nbrowser = system\ntimeout = 3\n",
        free_port()
    ));
    let screen = screen_of(&env, &["--no-open", "get-token"], Duration::from_secs(6));
    let lines: Vec<&str> = screen.lines().collect();
    // The browser's lines come first, whole; the spinner is drawn under them and is
    // gone when the wait ends (no frame left behind).
    assert_eq!(lines[0], "Open this URL in a browser:", "{screen}");
    assert!(lines[1].starts_with("  http://127.0.0.1:"), "{screen}");
    assert!(!screen.contains("waiting for the login"), "{screen}");
    assert!(
        screen.contains("saml-login: error: no login completed within 3 s"),
        "{screen}"
    );
}

#[test]
fn busy_port_from_callback_url_is_named_so() {
    let env = Env::new();
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port();
    env.config(&format!(
        "[DEFAULT]\nidp_url = https://x.example\nclient_id = c\nbrowser = system\ntimeout = 5\ncallback_url = http://localhost:{port}/acs\n"
    ));
    env.call(&["--no-open", "get-token"]).code(1).stderr_eq(&format!(
        "saml-login: error: port {port} on 127.0.0.1 is already in use; stop the program holding it or choose another `callback_url`\n  hint: set `callback_url` in the configuration section, or use --headless or --webview, which need no port; if it is an SSH forward (`ssh -L {port}:127.0.0.1:{port} HOST`) that holds it here, run saml-login on HOST, where the forward leads, or forward another port and give that number to `callback_url` on HOST\n"
    ));
    drop(busy);
}

/// The browser's page says when the IdP's response cannot be used (here a Role value
/// that is no pair of ARNs), and the next step, instead of "Signed in"; a good one says
/// "Signed in". The terminal says the same as the page.
#[test]
fn the_browser_page_says_when_the_response_is_unusable() {
    for (role, page, exit) in [
        (
            "not-a-role,nor-a-provider",
            "callback answered 200: saml-login could not use the IdP's response: SAML response: role value \"not-a-role,nor-a-provider\"",
            1,
        ),
        (&*format!("{ROLE},{PROVIDER}"), "Signed in", 0),
    ] {
        let log = tempfile::NamedTempFile::new().unwrap();
        let World {
            env,
            idp: _idp,
            moto: _moto,
            ..
        } = World::new()
            .idp_args(&["--role", role])
            .browser_args(&format!("--log {}", log.path().display()))
            .section(
                "dev",
                "aws_account = 123456789012\naws_role = Developer\naws_profile = dev\n",
            )
            .build();
        let ran = env.call(&["-c", "dev", "aws-assume-role"]).code(exit);
        let seen = std::fs::read_to_string(log.path()).unwrap();
        assert!(seen.contains(page), "{page}: {seen}");
        if exit == 1 {
            // The terminal says the same.
            ran.stderr_has("role value \"not-a-role,nor-a-provider\"");
            assert!(!env.credentials_path().exists(), "nothing stored");
        }
    }
}
