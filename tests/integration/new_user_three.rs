//! What a new user trips over, round three (issue 28): each defect a person met on a
//! first run, through the real binary against moto and the test IdP (the browser
//! stand-in as the system browser; the IdP counts logins, so "before any login" is
//! measured), the completions in real shells.

use std::process::Stdio;
#[cfg(target_os = "linux")]
use std::time::{Duration, Instant};

use crate::support::*;

const DEV: &str = "[dev]\naws_account = 123456789012\naws_role = Developer\naws_profile = dev\nregion = eu-west-1\n";

/// moto, a test IdP with a session for every browser, and a HOME whose [dev] names its
/// one role; `extra` is appended to the configuration.
fn world(extra: &str) -> (Env, Server, Server) {
    let w = World::new().config(DEV).config(extra).build();
    (w.env, w.idp, w.moto.unwrap())
}

/// Run `code` in `program` (bash, zsh, fish) with the built saml-login first on PATH.
fn in_shell(env: &Env, program: &str, code: &str) -> String {
    let bin_dir = assert_cmd::cargo::cargo_bin("saml-login")
        .parent()
        .unwrap()
        .to_owned();
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap());
    env.command(
        which(program)
            .unwrap_or_else(|| panic!("{program} is installed (scripts/install-deps.sh)")),
    )
    .args(["-c", code])
    .env("PATH", &path)
    .stdin(Stdio::null())
    .ran()
    .success()
    .stdout()
}

fn completion_script(env: &Env, shell: &str) -> std::path::PathBuf {
    let script = env.call(&["completions", shell]).code(0).stdout();
    env.write(&format!("complete.{shell}"), &script)
}

/// Defect 1 (bash): the function `complete -p` registers completes commands (it
/// called `_saml-login`, which clap names `_saml__login`), a section with a space is
/// one word, and the hidden `__sections` is never offered.
#[test]
fn bash_completion_completes_commands_and_sections_with_spaces() {
    let env = Env::new();
    env.config("[DEFAULT]\nidp_url = https://x.example\nclient_id = c\n[dev]\n[my team]\n");
    let script = completion_script(&env, "bash");
    // The words typed so far; bash's own call of the registered function.
    let complete = |words: &str| {
        in_shell(
            &env,
            "bash",
            &format!(
                "source {}; f=$(complete -p saml-login | sed -n 's/.*-F \\([^ ]*\\) .*/\\1/p'); \
                 COMP_WORDS=({words}); COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1)); \
                 COMP_LINE=\"${{COMP_WORDS[*]}}\"; COMP_POINT=${{#COMP_LINE}}; \
                 \"$f\" saml-login \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\" 2>&1; \
                 printf '%s\\n' \"${{COMPREPLY[@]}}\"",
                script.display()
            ),
        )
    };
    assert_eq!(complete("saml-login aws-as"), "aws-assume-role\n");
    let commands = complete("saml-login ''");
    assert!(commands.lines().any(|l| l == "configure"), "{commands}");
    assert!(!commands.contains("__sections"), "{commands}");
    assert_eq!(complete("saml-login -c my"), "my\\ team\n");
    assert_eq!(complete("saml-login -c ''"), "DEFAULT\ndev\nmy\\ team\n");
}

/// Defect 1 (fish, zsh): no `__sections` among the commands, a section with a space is
/// one candidate; zsh through its completion system in an interactive shell.
#[test]
fn fish_and_zsh_completion_offer_sections_whole_and_hide_the_sections_command() {
    let env = Env::new();
    env.config("[DEFAULT]\nidp_url = https://x.example\nclient_id = c\n[dev]\n[my team]\n");
    let fish = completion_script(&env, "fish");
    let got = in_shell(
        &env,
        "fish",
        &format!("source {}; complete -C 'saml-login '", fish.display()),
    );
    assert!(got.lines().any(|l| l.starts_with("configure")), "{got}");
    assert!(!got.contains("__sections"), "{got}");
    let got = in_shell(
        &env,
        "fish",
        &format!("source {}; complete -C 'saml-login -c '", fish.display()),
    );
    let offered: Vec<&str> = got.lines().map(|l| l.split('\t').next().unwrap()).collect();
    assert_eq!(offered, ["DEFAULT", "dev", "my team"], "{got}");

    // zsh: the script as its completion function `_saml-login`, loaded by compinit in an
    // interactive zsh on a terminal; the candidates listed for each line.
    let zsh = completion_script(&env, "zsh");
    let fpath = env.path("zfunc");
    std::fs::create_dir_all(&fpath).unwrap();
    std::fs::copy(&zsh, fpath.join("_saml-login")).unwrap();
    let listed = |line: &str| zsh_candidates(&env, &fpath, line);
    let commands = listed("saml-login ");
    assert!(commands.contains("aws-assume-role"), "{commands}");
    assert!(!commands.contains("__sections"), "{commands}");
    let sections = listed("saml-login -c ");
    assert!(sections.contains("my team"), "{sections}");
    assert!(sections.contains("dev"), "{sections}");
}

/// The candidates an interactive zsh lists for `line` (typed, then Tab twice), through
/// compinit and the completion function in `fpath`.
fn zsh_candidates(env: &Env, fpath: &std::path::Path, line: &str) -> String {
    let bin_dir = assert_cmd::cargo::cargo_bin("saml-login")
        .parent()
        .unwrap()
        .to_owned();
    let rc = env.path("zdotdir");
    std::fs::create_dir_all(&rc).unwrap();
    std::fs::write(
        rc.join(".zshrc"),
        format!(
            "fpath=({} $fpath)\nautoload -U compinit && compinit -u\nzstyle ':completion:*' list-prompt ''\nzstyle ':completion:*' menu no\nPS1='READY> '\nunsetopt beep\n",
            fpath.display()
        ),
    )
    .unwrap();
    let driver = r#"
import os, pty, sys, time, select
line = sys.argv[1].encode()
pid, fd = pty.fork()
if pid == 0:
    os.execvp("zsh", ["zsh", "-i"])
def read_for(seconds, until=None):
    out, end = b"", time.time() + seconds
    while time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.1)
        if r:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            out += chunk
            if until and until in out:
                break
    return out
read_for(20, b"READY> ")
os.write(fd, line + b"\t")
seen = read_for(3)
os.write(fd, b"\t")
seen += read_for(3)
os.kill(pid, 9)
os.waitpid(pid, 0)
print(seen.decode(errors="replace"))
"#;
    env.command(python())
        .args(["-c", driver, line])
        .env("ZDOTDIR", &rc)
        .env("TERM", "xterm")
        .env(
            "PATH",
            format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap()),
        )
        .stdin(Stdio::null())
        .ran()
        .success()
        .stdout()
}

/// Defect 2: botocore and the AWS CLI v1 read AWS_DEFAULT_REGION.
#[test]
fn exec_and_env_export_aws_default_region_beside_aws_region() {
    let (env, _idp, _moto) = world("");
    env.call(&[
        "-c",
        "dev",
        "exec",
        "--",
        "sh",
        "-c",
        "echo \"$AWS_REGION $AWS_DEFAULT_REGION\"",
    ])
    .success()
    .stdout_eq("eu-west-1 eu-west-1\n");
    env.call(&["-c", "dev", "env", "--shell", "bash"])
        .success()
        .stdout_has("export AWS_DEFAULT_REGION='eu-west-1'\n");
    // Papercut: a shell whose syntax env does not print is said so.
    env.cmd()
        .env("SHELL", "/bin/tcsh")
        .args(["-c", "dev", "env"])
        .ran()
        .success()
        .stderr_has("SHELL is /bin/tcsh, whose syntax env does not print");
}

fn profile_value(text: &str, key: &str) -> String {
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{key} = ")))
        .unwrap_or_else(|| panic!("no {key} in {text}"))
        .to_owned()
}

/// Defect 3: a profile whose keys another program rewrote is not vouched for by the
/// markers saml-login left beside the old keys.
#[test]
fn a_profile_whose_keys_were_rewritten_is_never_vouched_for() {
    let (env, idp, _moto) = world("");
    env.ok(&["-c", "dev", "aws-assume-role"]);
    let stderr = env.ok(&["-c", "dev", "aws-assume-role"]);
    assert!(stderr.contains("no login needed"), "{stderr}");
    assert_eq!(idp.samlp_requests(), 1);
    // Another program (`aws configure set`, the original tool, a paste) writes other keys.
    let text = env.credentials();
    let old = profile_value(&text, "aws_access_key_id");
    std::fs::write(
        env.credentials_path(),
        text.replace(&old, "ASIAOTHERPROGRAMKEY1"),
    )
    .unwrap();
    let stderr = env.ok(&["-c", "dev", "aws-assume-role"]);
    assert!(!stderr.contains("no login needed"), "{stderr}");
    assert!(stderr.contains("rewritten"), "{stderr}");
    // Renewed through STS (the cached assertion serves, so the IdP sees no new login).
    assert!(stderr.contains("credentials for"), "{stderr}");
    let now = profile_value(&env.credentials(), "aws_access_key_id");
    assert_ne!(now, "ASIAOTHERPROGRAMKEY1");
    assert_ne!(now, old);
}

/// Defect 4: options of `exec` before the command are options; a misspelt one is a
/// usage error before any login. A command's own options still pass through.
#[test]
fn exec_unknown_option_is_a_usage_error_before_any_login() {
    let (env, idp, _moto) = world("");
    env.call(&["-c", "dev", "exec", "--profil", "foo", "--", "true"])
        .code(2)
        .stderr_has("--profil");
    assert_eq!(idp.samlp_requests(), 0, "no login for a usage error");
    env.call(&["-c", "dev", "exec", "sh", "-c", "exit 3", "--x"])
        .code(3);
}

/// Defect 5: `configure` answered from the cached assertion says so (its time and
/// `--force`), and `--dry-run` always says what it found.
#[test]
fn configure_names_the_cached_assertion_and_dry_run_always_reports() {
    let (env, idp, _moto) = world("");
    let stderr = env.ok(&["-c", "dev", "configure", "--dry-run"]);
    assert!(stderr.contains("1 profile"), "{stderr}");
    assert!(stderr.contains("dry run"), "{stderr}");
    env.ok(&["-c", "dev", "configure"]);
    let stderr = env.ok(&["-c", "dev", "configure", "--dry-run"]);
    assert!(stderr.contains("no change"), "{stderr}");
    let stderr = env.ok(&["-c", "dev", "configure"]);
    assert!(stderr.contains("cached SAML assertion of"), "{stderr}");
    assert!(stderr.contains("--force"), "{stderr}");
    assert_eq!(idp.samlp_requests(), 1);
}

/// Defect 6: `profile_name` gives a profile no SDK could use: refused before any
/// login, and ~/.aws/config untouched.
#[test]
fn configure_refuses_a_profile_name_no_sdk_can_use() {
    let (env, idp, _moto) = world("profile_name = {role} [x]\n");
    env.call(&["-c", "dev", "configure"])
        .code(1)
        .stderr_has("profile_name")
        .stderr_has("[dev]");
    assert!(!env.path(".aws/config").exists());
    assert_eq!(idp.samlp_requests(), 0);
}

/// Defect 7: a malformed credentials file is refused with its line number and kept
/// byte for byte, before any login.
#[test]
fn a_malformed_credentials_file_is_refused_with_its_line_and_kept() {
    let (env, idp, _moto) = world("");
    let broken = "[default]\naws_access_key_id = AKIAEXAMPLE\n\n[sandbox-role\nregion = x\n";
    env.write(".aws/credentials", broken);
    env.call(&["-c", "dev", "aws-assume-role"])
        .code(1)
        .stderr_has("line 4");
    assert_eq!(env.credentials(), broken);
    assert_eq!(idp.samlp_requests(), 0);
}

/// Defect 8: `--account`/`--role` for credential-process, exec and env; the error
/// names what is missing and the `-c SECTION` in use.
#[test]
fn account_and_role_flags_for_every_credential_command() {
    let (env, _idp, _moto) = world("[acct]\naws_account = 123456789012\n[bare]\n");
    env.call(&[
        "-c",
        "acct",
        "credential-process",
        "--account",
        "123456789012",
    ])
    .code(2)
    .stderr_has("no aws_role")
    .stderr_lacks("no aws_account")
    .stderr_has("-c acct credential-process");
    env.call(&[
        "-c",
        "bare",
        "exec",
        "--account",
        "123456789012",
        "--role",
        "Developer",
        "--",
        "sh",
        "-c",
        "test -n \"$AWS_ACCESS_KEY_ID\" && echo ok",
    ])
    .success()
    .stdout_eq("ok\n");
    env.call(&[
        "-c",
        "bare",
        "env",
        "--account",
        "123456789012",
        "--role",
        "Developer",
        "--shell",
        "bash",
    ])
    .success()
    .stdout_has("export AWS_ACCESS_KEY_ID=");
    env.call(&["-c", "bare", "exec", "--", "true"])
        .code(2)
        .stderr_has("-c bare exec --account");
}

/// Defect 9: SIGTERM, SIGINT and SIGHUP to `exec` reach the command, whose status is
/// then exec's; a SIGKILLed exec takes the command with it (PR_SET_PDEATHSIG).
#[cfg(target_os = "linux")]
#[test]
fn signals_to_exec_reach_the_command_and_it_dies_with_exec() {
    let (env, _idp, _moto) = world("");
    // Keys first, so the runs below start their command at once.
    env.ok(&["-c", "dev", "credential-process"]);
    for (signal, name) in [
        (rustix::process::Signal::TERM, "TERM"),
        (rustix::process::Signal::INT, "INT"),
        (rustix::process::Signal::HUP, "HUP"),
    ] {
        let marker = env.path(&format!("got-{name}"));
        let ready = env.path(&format!("ready-{name}"));
        let script = format!(
            "trap 'echo {name} > {m}; exit 7' {name}; echo $$ > {r}.tmp; mv {r}.tmp {r}; while :; do sleep 0.05; done",
            m = marker.display(),
            r = ready.display()
        );
        let mut cmd = env.saml_login();
        cmd.args(["-c", "dev", "exec", "--", "sh", "-c", &script])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let mut group = GroupGuard::spawn(cmd);
        let child = wait_for_pid(&ready);
        let pid = rustix::process::Pid::from_raw(group.id() as i32).unwrap();
        rustix::process::kill_process(pid, signal).unwrap();
        let status = group
            .wait_for(Duration::from_secs(20))
            .unwrap_or_else(|| panic!("exec still running 20 s after SIG{name}"));
        assert_eq!(status.code(), Some(7), "SIG{name}: the command's status");
        assert_eq!(
            std::fs::read_to_string(&marker).unwrap_or_default(),
            format!("{name}\n"),
            "SIG{name} reached the command"
        );
        assert!(!alive(child), "the command ended");
    }

    // SIGKILL cannot be forwarded: the command dies with exec all the same.
    let ready = env.path("ready-kill");
    let script = format!(
        "echo $$ > {r}.tmp; mv {r}.tmp {r}; while :; do sleep 0.05; done",
        r = ready.display()
    );
    let mut cmd = env.saml_login();
    cmd.args(["-c", "dev", "exec", "--", "sh", "-c", &script])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut group = GroupGuard::spawn(cmd);
    let child = wait_for_pid(&ready);
    group.child.kill().unwrap();
    let _ = group.wait_for(Duration::from_secs(10));
    let deadline = Instant::now() + Duration::from_secs(10);
    while alive(child) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(!alive(child), "the command outlived a killed exec");
}

#[cfg(target_os = "linux")]
fn wait_for_pid(file: &std::path::Path) -> u32 {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(text) = std::fs::read_to_string(file)
            && let Ok(pid) = text.trim().parse()
        {
            return pid;
        }
        assert!(Instant::now() < deadline, "the command never started");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Defect 10: what can be checked before the browser opens is, and the login is never
/// made: a read-only or 0400 credentials file, an account that is neither 12 digits nor
/// an alias, a misspelt alias, a policy ARN that is not one, an inline `# comment`.
#[cfg(unix)]
#[test]
fn what_can_be_checked_is_checked_before_the_browser_opens() {
    use std::os::unix::fs::PermissionsExt;
    let (env, idp, _moto) = world(
        "[commented]\naws_account = 123456789012 # sandbox\naws_role = Developer\naws_profile = c\n",
    );
    env.write(".aws-accounts", "[DEFAULT]\nsandbox = 123456789012\n");
    let creds = env.write(".aws/credentials", "[other]\naws_access_key_id = A\n");
    std::fs::set_permissions(&creds, std::fs::Permissions::from_mode(0o400)).unwrap();
    env.call(&["-c", "dev", "aws-assume-role"])
        .code(1)
        .stderr_has("read-only")
        .stderr_has("0400");
    std::fs::set_permissions(&creds, std::fs::Permissions::from_mode(0o600)).unwrap();

    for (args, expected) in [
        (
            &[
                "aws-assume-role",
                "--account",
                "12345",
                "--role",
                "Developer",
            ][..],
            "12345",
        ),
        (
            &[
                "aws-assume-role",
                "--account",
                "sandbx",
                "--role",
                "Developer",
            ][..],
            "did you mean sandbox",
        ),
        (
            &["-c", "dev", "aws-assume-role", "--policy-arn", "notanarn"][..],
            "notanarn",
        ),
        (&["-c", "commented", "aws-assume-role"][..], "comment"),
    ] {
        let ran = env.call(args);
        let code = ran.out.status.code();
        ran.check(matches!(code, Some(1 | 2)), "expected exit code 1 or 2")
            .stderr_has(expected)
            .check(idp.samlp_requests() == 0, "logged in");
    }
}

/// Defect 10: `exec --profile P` whose credential_process names a section the
/// configuration does not have fails before any login, naming it.
#[test]
fn exec_profile_naming_an_unknown_section_fails_before_any_login() {
    let (env, idp, _moto) = world("");
    let bin = assert_cmd::cargo::cargo_bin("saml-login");
    env.write(
        ".aws/config",
        &format!(
            "[profile p]\ncredential_process = {} -c nosuch credential-process\nregion = eu-west-1\n",
            bin.display()
        ),
    );
    env.call(&["exec", "--profile", "p", "--", "true"])
        .failure()
        .stderr_has("nosuch")
        .check(idp.samlp_requests() == 0, "logged in");
}

/// Defect 12: two sections of one IdP with the default template clash: the message
/// names the other section's block and suggests `profile_name`.
#[test]
fn configure_clash_names_the_other_section() {
    let (env, _idp, _moto) = world("[work]\n");
    env.ok(&["-c", "dev", "configure"]);
    let before = std::fs::read_to_string(env.path(".aws/config")).unwrap();
    env.call(&["-c", "work", "configure"])
        .code(1)
        .stderr_lacks("outside saml-login's block")
        .stderr_has("block of [dev]")
        .stderr_has("profile_name");
    assert_eq!(
        std::fs::read_to_string(env.path(".aws/config")).unwrap(),
        before
    );
}

/// Run the role picker on a terminal (Python's pty), press `key` once it reads keys,
/// and return the exit status and everything the terminal received.
#[cfg(unix)]
fn picker_with_key(env: &Env, response: &std::path::Path, key: &str) -> (i32, String) {
    let driver = r#"
import os, pty, sys, time, select, termios
key = bytes.fromhex(sys.argv[1])
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[2], sys.argv[2:])
seen, deadline = b"", time.time() + 30
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
while termios.tcgetattr(fd)[3] & termios.ICANON and time.time() < deadline:
    time.sleep(0.02)
time.sleep(0.2)
os.write(fd, key)
end = time.time() + 30
status = None
while time.time() < end:
    done, st = os.waitpid(pid, os.WNOHANG)
    if done:
        status = st
        break
    r, _, _ = select.select([fd], [], [], 0.2)
    if r:
        try:
            seen += os.read(fd, 4096)
        except OSError:
            pass
if status is None:
    os.kill(pid, 9)
    print("still running")
    sys.exit(1)
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
sys.stdout.write(seen.decode(errors="replace"))
"#;
    let report = env
        .command(python())
        .args(["-c", driver, key])
        .arg(assert_cmd::cargo::cargo_bin("saml-login"))
        .arg("--saml-response-file")
        .arg(response)
        .arg("aws-assume-role")
        .env("TERM", "xterm")
        .stdin(Stdio::null())
        .ran()
        .stdout_matches("^exit ")
        .stdout();
    let (first, rest) = report.split_once('\n').unwrap();
    (first[5..].trim().parse().unwrap(), rest.to_owned())
}

/// Defect 11: Esc in the picker is "no role chosen" with its own exit status (not a
/// closed login window's 3); Ctrl-C leaves the terminal's cursor shown.
#[cfg(unix)]
#[test]
fn the_role_picker_shows_the_cursor_after_ctrl_c_and_esc_chooses_no_role() {
    use base64::Engine as _;
    let env = Env::new();
    env.config("[DEFAULT]\nidp_url = https://x.example\nclient_id = c\n");
    let xml =
        std::fs::read_to_string(repo().join("fixtures/saml/two-roles-two-accounts.xml")).unwrap();
    let response = env.write(
        "saved.b64",
        &base64::engine::general_purpose::STANDARD.encode(xml),
    );
    let (code, screen) = picker_with_key(&env, &response, "1b");
    assert_eq!(code, 6, "{screen}");
    assert!(
        screen.contains("saml-login: error: no role chosen"),
        "{screen}"
    );
    assert!(!screen.contains("login cancelled"), "{screen}");

    let (code, screen) = picker_with_key(&env, &response, "03");
    assert_eq!(code, 130, "{screen}");
    let hidden = screen
        .rfind("\x1b[?25l")
        .expect("the picker hides the cursor");
    assert!(
        screen[hidden..].contains("\x1b[?25h"),
        "the cursor stays hidden: {screen:?}"
    );
}

/// Papercuts of the help and the manual page: the ini example keeps its lines, the
/// variable of --config shows without a stray `=` and an empty one is no error, the
/// `--role` help says a full ARN works, ENVIRONMENT names the AWS variables.
#[test]
fn help_and_man_page_say_what_a_new_user_needs() {
    let env = Env::new();
    let help = env.call(&["credential-process", "--help"]).stdout();
    assert!(
        help.lines().any(|l| l.trim() == "[profile dev]"),
        "the ini example keeps its lines: {help}"
    );
    assert!(help.contains("[env: SAML_LOGIN_CONFIG]"), "{help}");
    assert!(help.contains("full ARN"), "{help}");
    let roff = env.call(&["man"]).stdout();
    let environment = roff.split(".SH ENVIRONMENT\n").nth(1).unwrap();
    for var in ["AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"] {
        assert!(environment.contains(var), "{var} in ENVIRONMENT");
    }
    assert!(
        roff.lines().any(|l| l.trim() == "[profile dev]"),
        "the man page keeps the ini example's lines"
    );
    // SAML_LOGIN_CONFIG set but empty counts as unset.
    env.config("[DEFAULT]\nidp_url = https://x.example\nclient_id = c\n");
    env.cmd()
        .env("SAML_LOGIN_CONFIG", "")
        .arg("__sections")
        .ran()
        .success()
        .stdout_eq("DEFAULT\n");
}

/// Papercut: bad flag values are usage errors (2), as clap's own are.
#[test]
fn bad_flag_values_are_usage_errors() {
    let env = Env::new();
    env.config("[DEFAULT]\nidp_url = https://x.example\nclient_id = c\n");
    for flag in [["--timeout", "0"], ["--listen-port", "99999"]] {
        env.call(&[flag[0], flag[1], "get-token"])
            .code(2)
            .stderr_has(flag[0]);
    }
}

/// Papercuts of aws-assume-role: `--all` keeps the profiles that still hold their
/// request (no STS call for them), and flags `--all`/`--show` would ignore are refused.
#[test]
fn assume_all_keeps_valid_profiles_and_show_or_all_refuse_flags_they_ignore() {
    let (env, _idp, _moto) = world("");
    env.ok(&["aws-assume-role", "--all"]);
    let first = profile_value(&env.credentials(), "aws_access_key_id");
    let stderr = env.ok(&["aws-assume-role", "--all"]);
    assert!(stderr.contains("kept"), "{stderr}");
    assert_eq!(
        profile_value(&env.credentials(), "aws_access_key_id"),
        first
    );
    for args in [
        &["aws-assume-role", "--all", "-C"][..],
        &["aws-assume-role", "--show", "--role", "Developer"][..],
    ] {
        env.call(args).code(2);
    }
}

/// Papercut: a misspelt section gets a "did you mean".
#[test]
fn a_misspelt_section_gets_did_you_mean() {
    let env = Env::new();
    env.config("[DEFAULT]\nidp_url = https://x.example\nclient_id = c\n[production]\n");
    env.call(&["-c", "prodcution", "get-token"])
        .code(1)
        .stderr_has("did you mean -c production?");
}

/// Papercut: an empty ~/.saml-login gets the template a missing one gets.
#[test]
fn an_empty_configuration_gets_the_template() {
    let env = Env::new();
    env.config("");
    env.call(&["get-token"])
        .code(1)
        .stderr_has("is empty (no configuration yet); it needs at least:\n\n[DEFAULT]\nidp_url = ");
}

/// Papercut: an STS nothing answers at is named.
#[test]
fn unreachable_sts_is_named() {
    let port = free_port();
    let w = World::new()
        .no_callback()
        .sts_url(&format!("http://127.0.0.1:{port}"))
        .no_browser()
        .section(
            "dev",
            "aws_account = 123456789012\naws_role = Developer\naws_profile = dev\n",
        )
        .saved_response()
        .build();
    let saved = w.env.path("saved.b64");
    w.env
        .call(&[
            "--saml-response-file",
            saved.to_str().unwrap(),
            "-c",
            "dev",
            "aws-assume-role",
        ])
        .code(1)
        .stderr_has(&format!("cannot reach STS at http://127.0.0.1:{port}"));
}

/// Papercut: `logout` with no configuration file has nothing to forget, and says how
/// to forget every IdP's login.
#[test]
fn logout_without_a_configuration_file_succeeds_and_names_logout_all() {
    let env = Env::new();
    env.call(&["logout"]).code(0).stderr_has("logout --all");
}

/// Papercut: a saved response copied URL-encoded is said to be so.
#[test]
fn a_url_encoded_saved_response_is_named_so() {
    let env = Env::new();
    env.config("[DEFAULT]\nidp_url = https://x.example\nclient_id = c\n");
    let saved = env.write("saved.b64", "PHNhbWxwOlJlc3BvbnNl%2BeG1%3D\n");
    env.call(&[
        "--saml-response-file",
        saved.to_str().unwrap(),
        "aws-assume-role",
        "--show",
    ])
    .code(1)
    .stderr_has("it looks URL-encoded");
}
