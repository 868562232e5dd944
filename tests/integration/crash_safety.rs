//! Crash safety: saml-login killed with SIGKILL (`Child::kill` on Unix) while it writes a
//! secret file never leaves a torn one. After every kill the credentials file, each
//! cache file and a saved cookie jar is either the old version or a complete new one;
//! never a mix, never empty.
//!
//! A write lasts microseconds, so kills spread over whole runs rarely reach one. Here
//! the kills are put inside it: saml-login runs under `strace -P FILE`, which holds
//! every syscall that writes, truncates, syncs or renames onto that file for
//! [`HOLD`] at its entry (`--inject=...:delay_enter=`), and the test sends SIGKILL
//! while saml-login is held there (seen in `/proc/PID/stat` and `/proc/PID/syscall`).
//! With the atomic replace the held syscall is the `renameat` of the finished
//! temporary file; with a plain write it would be the `write` into the truncated file,
//! and the kill would leave it torn (the test fails then: tried by swapping
//! `SecretFile::replace` for `std::fs::write`). A minimum number of kills must land
//! inside the hold. Moments are drawn by a seeded PRNG (`CRASH_SEED` replays; the
//! seed is printed). Temporary files a killed process could not remove
//! (`.saml-login-*.tmp`) are counted and removed; at most one may appear per kill.
//!
//! Linux only: `strace` holds each write, and `/proc/PID/syscall` shows where.

#![cfg(target_os = "linux")]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::*;

/// splitmix64: small, deterministic, good enough to spread kill moments.
struct Rng(u64);

impl Rng {
    fn seeded(test: &str) -> Self {
        let seed = std::env::var("CRASH_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0x5eed_0000_2026_u64);
        println!("{test}: seed {seed} (CRASH_SEED={seed} replays it)");
        Rng(seed)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in 0..=max.
    fn upto(&mut self, max: Duration) -> Duration {
        let micros = max.as_micros() as u64;
        Duration::from_micros(self.next() % (micros + 1))
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// One run left alone; it must succeed.
fn run_to_completion(env: &Env, args: &[&str]) {
    // A run left alone succeeds.
    env.saml_login()
        .args(args)
        .stdin(Stdio::null())
        .ran()
        .success();
}

/// The longest of three complete runs (each must succeed): the machine is shared, so
/// the longest is the safer bound for spreading kills over a whole run.
fn normal_run(env: &Env, args: &[&str], before_each: &mut dyn FnMut()) -> Duration {
    let times: Vec<Duration> = (0..3)
        .map(|_| {
            before_each();
            let started = Instant::now();
            run_to_completion(env, args);
            started.elapsed()
        })
        .collect();
    times.into_iter().max().unwrap()
}

/// `.saml-login-*.tmp` files in `dir`: counted, then removed.
fn sweep_temp_files(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut n = 0;
    for e in entries.filter_map(|e| e.ok()) {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with(".saml-login-") && name.ends_with(".tmp") {
            n += 1;
            std::fs::remove_file(e.path()).unwrap();
        }
    }
    n
}

/// How long strace holds each write-path syscall on the watched file: long, so that
/// on a loaded machine the test still sees the hold and kills inside it.
const HOLD: Duration = Duration::from_millis(1500);

/// The syscalls that write a file's content or put it in place: held when they touch
/// the file. (Not `unlink`: the assertion cache removes an expired entry before it
/// writes the new one, and the kill is meant for the write.)
const WRITE_PATH: &str = "write,writev,pwrite64,pwritev,pwritev2,ftruncate,fallocate,fsync,fdatasync,rename,renameat,renameat2";

/// Their numbers, to tell from `/proc/PID/syscall` that saml-login is held in one.
#[cfg(target_arch = "x86_64")]
const WRITE_PATH_NRS: &[u64] = &[1, 20, 18, 296, 328, 77, 285, 74, 75, 82, 264, 316];
#[cfg(target_arch = "aarch64")]
const WRITE_PATH_NRS: &[u64] = &[64, 66, 68, 70, 287, 46, 47, 82, 83, 38, 276];

/// `pid`'s state letter and, when it is stopped in a syscall, the syscall's number.
fn held_in(pid: u32) -> (Option<char>, Option<u64>) {
    let state = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| s.rsplit_once(')')?.1.trim_start().chars().next());
    let nr = std::fs::read_to_string(format!("/proc/{pid}/syscall"))
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok());
    (state, nr)
}

fn held_in_write_path(pid: u32) -> bool {
    matches!(held_in(pid), (Some('t'), Some(nr)) if WRITE_PATH_NRS.contains(&nr))
}

/// Run saml-login `args` under strace holding every write-path syscall on `target`
/// for [`HOLD`], and SIGKILL it at a random moment inside the first hold. Whether the
/// kill landed inside one (false: the run ended without reaching the write). strace
/// and everything the run started are in a process group killed before this returns.
fn kill_inside_write(env: &Env, args: &[&str], target: &Path, rng: &mut Rng) -> bool {
    let bin = assert_cmd::cargo::cargo_bin("saml-login");
    let mut cmd =
        env.command(which("strace").expect("strace is installed (scripts/install-deps.sh)"));
    cmd.args(["-qq", "-o", "/dev/null", "-P"])
        .arg(target)
        .arg(format!("--trace={WRITE_PATH}"))
        .arg(format!(
            "--inject={WRITE_PATH}:delay_enter={}",
            HOLD.as_micros()
        ))
        .arg("--")
        .arg(&bin)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut run = GroupGuard::spawn(cmd);
    let strace = run.id();
    let deadline = Instant::now() + Duration::from_secs(90);
    let mut tracee: Option<u32> = None;
    let mut held_since: Option<Instant> = None;
    loop {
        if run.child.try_wait().unwrap().is_some() {
            return false;
        }
        assert!(
            Instant::now() < deadline,
            "a traced run did not end in 90 s"
        );
        if tracee.is_none() {
            // strace's child once it has become saml-login (strace forks test children
            // of its own first).
            tracee = std::fs::read_to_string(format!("/proc/{strace}/task/{strace}/children"))
                .unwrap_or_default()
                .split_whitespace()
                .filter_map(|p| p.parse::<u32>().ok())
                .find(|p| {
                    std::fs::read(format!("/proc/{p}/cmdline"))
                        .is_ok_and(|c| c.starts_with(bin.as_os_str().as_encoded_bytes()))
                });
        }
        if let Some(pid) = tracee {
            if held_in_write_path(pid) {
                let since = *held_since.get_or_insert_with(Instant::now);
                // Held for a while: the injected hold, not a syscall passing by.
                if since.elapsed() >= Duration::from_millis(20) {
                    std::thread::sleep(rng.upto(HOLD.mul_f64(0.4)));
                    let inside = held_in_write_path(pid);
                    let _ = Command::new("kill")
                        .args(["-KILL", &pid.to_string()])
                        .status();
                    assert!(
                        run.wait_for(Duration::from_secs(20)).is_some(),
                        "strace did not end after its tracee was killed"
                    );
                    return inside;
                }
            } else {
                held_since = None;
            }
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// At least this share of the kills must land inside the write.
fn assert_inside(name: &str, inside: usize, kills: usize) {
    assert!(
        inside * 10 >= kills * 9,
        "{name}: only {inside} of {kills} kills landed inside the write"
    );
}

// ---------------------------------------------------------------------------------
// The credentials file
// ---------------------------------------------------------------------------------

/// The file cut into its preamble and its sections, each kept byte for byte.
fn sections(text: &str) -> Result<(String, Vec<(String, String)>), String> {
    let mut preamble = String::new();
    let mut out: Vec<(String, String)> = Vec::new();
    for line in text.split_inclusive('\n') {
        let t = line.trim();
        if t.starts_with('[') {
            let name = t
                .strip_prefix('[')
                .and_then(|n| n.strip_suffix(']'))
                .ok_or(format!("torn header {t:?}"))?;
            out.push((name.to_owned(), line.to_owned()));
            continue;
        }
        if !t.is_empty() && !t.starts_with('#') && !t.starts_with(';') {
            let (k, v) = t.split_once(" = ").ok_or(format!("torn line {t:?}"))?;
            if k.is_empty() || v.is_empty() {
                return Err(format!("empty key or value in {t:?}"));
            }
        }
        if !line.ends_with('\n') {
            return Err(format!("last line not terminated: {line:?}"));
        }
        match out.last_mut() {
            Some((_, body)) => body.push_str(line),
            None => preamble.push_str(line),
        }
    }
    Ok((preamble, out))
}

fn keys_of(section: &str) -> Vec<(String, String)> {
    section
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(" = "))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect()
}

/// Whether `new` is `old` with exactly `[profile]` updated (or appended) with all the
/// credential keys; every other byte as it was.
fn valid_update(old: &str, new: &str, profile: &str) -> Result<(), String> {
    let (old_pre, old_sections) = sections(old).map_err(|e| format!("old: {e}"))?;
    let (new_pre, new_sections) = sections(new)?;
    if old_pre != new_pre {
        return Err("the preamble changed".into());
    }
    let appended = !old_sections.iter().any(|(n, _)| n == profile);
    let expected_names: Vec<&str> = old_sections
        .iter()
        .map(|(n, _)| n.as_str())
        .chain(appended.then_some(profile))
        .collect();
    let names: Vec<&str> = new_sections.iter().map(|(n, _)| n.as_str()).collect();
    if names != expected_names {
        return Err(format!("sections changed: {names:?}"));
    }
    for (i, ((name, body), (_, old_body))) in new_sections.iter().zip(&old_sections).enumerate() {
        if name == profile {
            continue;
        }
        // Appending may put one blank line after the section before it.
        let last_before_append = appended && i + 1 == old_sections.len();
        let same = if last_before_append {
            body.trim_end_matches('\n') == old_body.trim_end_matches('\n')
        } else {
            body == old_body
        };
        if !same {
            return Err(format!("section [{name}] changed:\n{old_body:?}\n{body:?}"));
        }
    }
    let body = &new_sections.iter().find(|(n, _)| n == profile).unwrap().1;
    let keys = keys_of(body);
    for k in CREDENTIAL_KEYS {
        if !keys.iter().any(|(key, v)| key == k && !v.is_empty()) {
            return Err(format!("[{profile}] lacks {k}: {body:?}"));
        }
    }
    if !appended {
        // The profile's own other lines (a comment, its region) are kept.
        let old_body = &old_sections.iter().find(|(n, _)| n == profile).unwrap().1;
        for line in old_body.lines().skip(1) {
            let is_key = CREDENTIAL_KEYS
                .iter()
                .any(|k| line.starts_with(&format!("{k} = ")));
            if !is_key && !body.lines().any(|l| l == line) {
                return Err(format!("[{profile}] lost {line:?}"));
            }
        }
    }
    Ok(())
}

/// 50 profiles with comments, other keys and old credentials.
fn fifty_profiles() -> String {
    let mut s = String::from(
        "# AWS credentials; saml-login must keep every other byte.\n; second comment\n\n",
    );
    for i in 0..50 {
        s.push_str(&format!(
            "# profile {i}\n[p{i}]\nregion = eu-west-{}\naws_access_key_id = AKIAOLD{i:04}\naws_secret_access_key = oldsecret{i}\n# inner comment {i}\naws_session_token = oldtoken{i}\nexpiration = 2020-01-01T00:00:00Z\nx_security_token_expires = 2020-01-01T00:00:00Z\n\n",
            i % 3 + 1
        ));
    }
    s
}

#[test]
fn credentials_file_survives_sigkill_inside_the_write() {
    const KILLS: usize = 30;
    let moto = moto();
    let idp = idp(&["--auto-session"]);
    let env = Env::new().sts(&moto);
    env.config(&config_for(&idp, free_port()));
    let saved = env.write("saved.b64", &fetch_saml_response(&idp));
    let saved = saved.display().to_string();
    env.write(".aws/credentials", &fifty_profiles());
    let aws_dir = env.path(".aws");
    let args = |profile: &str| -> Vec<String> {
        [
            "--saml-response-file",
            &saved,
            "aws-assume-role",
            "--account",
            "123456789012",
            "--role",
            "Developer",
            "--profile",
            profile,
            "--force",
        ]
        .map(str::to_owned)
        .to_vec()
    };
    let mut rng = Rng::seeded("credentials file");
    let (mut old_outcomes, mut new_outcomes, mut torn, mut temp_left, mut inside) = (0, 0, 0, 0, 0);
    let mut problems = Vec::new();
    let mut old = std::fs::read_to_string(env.credentials_path()).unwrap();
    for kill in 0..KILLS {
        // p0..p59: most updates, some appends of a new section.
        let profile = format!("p{}", rng.below(60));
        let a = args(&profile);
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        if kill_inside_write(&env, &a, &env.credentials_path(), &mut rng) {
            inside += 1;
        }
        let left = sweep_temp_files(&aws_dir);
        temp_left += left;
        if left > 1 {
            problems.push(format!("kill {kill}: {left} temporary files left"));
        }
        let new = std::fs::read_to_string(env.credentials_path());
        match new {
            Ok(new) if new == old => old_outcomes += 1,
            Ok(new) => match valid_update(&old, &new, &profile) {
                Ok(()) => {
                    new_outcomes += 1;
                    old = new;
                }
                Err(e) => {
                    torn += 1;
                    problems.push(format!("kill {kill} ({profile}): {e}"));
                    std::fs::write(env.credentials_path(), &old).unwrap();
                }
            },
            Err(e) => {
                torn += 1;
                problems.push(format!("kill {kill}: credentials file unreadable: {e}"));
            }
        }
    }
    println!(
        "credentials file: kills {KILLS}, inside the write {inside}, old-version outcomes {old_outcomes}, new-version outcomes {new_outcomes}, torn files {torn}, leftover temp files {temp_left}"
    );
    assert!(problems.is_empty(), "{problems:#?}");
    assert_eq!(torn, 0);
    assert_inside("credentials file", inside, KILLS);
    // A run left alone updates the survivor, which the AWS SDKs still read.
    let a = args("p7");
    run_to_completion(&env, &a.iter().map(String::as_str).collect::<Vec<_>>());
    let new = std::fs::read_to_string(env.credentials_path()).unwrap();
    valid_update(&old, &new, "p7").unwrap();
    assert_eq!(
        caller_identity(&moto, &env.credentials_path(), "p7"),
        "arn:aws:sts::123456789012:assumed-role/Developer/developer@example.com"
    );
}

// ---------------------------------------------------------------------------------
// The caches
// ---------------------------------------------------------------------------------

/// Every `*.json` in `dir` parses and holds `fields` as non-empty strings.
fn check_json_files(dir: &Path, fields: &[&str]) -> Result<Vec<(PathBuf, String)>, String> {
    let mut files = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(files);
    };
    for e in entries.filter_map(|e| e.ok()) {
        let path = e.path();
        if path.extension().is_none_or(|x| x != "json") {
            continue;
        }
        let text = std::fs::read_to_string(&path).map_err(|e| e.to_string())?;
        let v: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| format!("{} is torn ({e}): {text:?}", path.display()))?;
        for f in fields {
            if v[f].as_str().is_none_or(str::is_empty) {
                return Err(format!("{} lacks {f}: {text}", path.display()));
            }
        }
        files.push((path, text));
    }
    Ok(files)
}

struct CacheFigures {
    kills: usize,
    inside: usize,
    absent: usize,
    old: usize,
    new: usize,
    torn: usize,
    temp_left: usize,
}

/// Run `args` `kills` times, killing it inside the write of its cache file in `dir`
/// (found by a first run left alone).
fn kill_loop(
    name: &str,
    env: &Env,
    args: &[&str],
    dir: &Path,
    fields: &[&str],
    kills: usize,
    before_each: &mut dyn FnMut(),
) -> CacheFigures {
    let mut rng = Rng::seeded(name);
    before_each();
    run_to_completion(env, args);
    let files = check_json_files(dir, fields).expect("a run left alone writes a whole file");
    assert_eq!(files.len(), 1, "{name}: one cache file");
    let target = files[0].0.clone();
    let mut f = CacheFigures {
        kills,
        inside: 0,
        absent: 0,
        old: 0,
        new: 0,
        torn: 0,
        temp_left: 0,
    };
    let mut problems = Vec::new();
    for kill in 0..kills {
        before_each();
        let before = check_json_files(dir, fields).expect("the file is whole before the run");
        if kill_inside_write(env, args, &target, &mut rng) {
            f.inside += 1;
        }
        let left = sweep_temp_files(dir);
        f.temp_left += left;
        if left > 1 {
            problems.push(format!("kill {kill}: {left} temporary files left"));
        }
        match check_json_files(dir, fields) {
            // A cache may drop an entry it will not use (an expired assertion).
            Ok(after) if after.is_empty() => f.absent += 1,
            Ok(after) if after == before => f.old += 1,
            Ok(after) if after.len() == 1 => f.new += 1,
            Ok(after) => problems.push(format!("kill {kill}: {} cache files", after.len())),
            Err(e) => {
                f.torn += 1;
                problems.push(format!("kill {kill}: {e}"));
                let _ = std::fs::remove_file(&target);
                before_each();
                run_to_completion(env, args);
            }
        }
    }
    println!(
        "{name}: kills {}, inside the write {}, absent {}, old-version outcomes {}, new-version outcomes {}, torn files {}, leftover temp files {}",
        f.kills, f.inside, f.absent, f.old, f.new, f.torn, f.temp_left
    );
    assert!(problems.is_empty(), "{name}: {problems:#?}");
    assert_eq!(f.torn, 0);
    assert_inside(name, f.inside, kills);
    // One run left alone ends with a whole new file.
    before_each();
    let before = check_json_files(dir, fields).unwrap();
    run_to_completion(env, args);
    let after = check_json_files(dir, fields).unwrap();
    assert_eq!(after.len(), 1, "{name}: one file");
    assert_ne!(after, before, "{name}: a new version");
    f
}

const DEV: &str = "[dev]\naws_account = 123456789012\naws_role = Developer\naws_profile = dev\n";

#[test]
fn credential_cache_survives_sigkill() {
    let moto = moto();
    let idp = idp(&["--auto-session"]);
    let env = Env::new().sts(&moto);
    env.config(&format!("{}\n{DEV}", config_for(&idp, free_port())));
    let saved = env.write("saved.b64", &fetch_saml_response(&idp));
    let saved = saved.display().to_string();
    let dir = env.path(".cache/saml-login/credentials");
    kill_loop(
        "credential cache",
        &env,
        &[
            "--saml-response-file",
            &saved,
            "-c",
            "dev",
            "credential-process",
            "--force",
        ],
        &dir,
        &[
            "access_key_id",
            "secret_access_key",
            "session_token",
            "expiration",
        ],
        20,
        &mut || {},
    );
}

#[test]
fn assertion_cache_survives_sigkill() {
    // The system browser (the stand-in) logs in each run: the cached assertion is
    // marked expired before each run, so saml-login drops it, logs in and writes a new
    // one. Outcomes: the old (expired) file, none, or the new one; never a torn one.
    let port = free_port();
    let callback = format!("http://localhost:{port}/saml");
    let idp = idp(&["--auto-session", "--callback", &callback]);
    let env = Env::new().test_browser("");
    env.config(&config_for(&idp, port));
    let dir = env.path(".cache/saml-login/assertions");
    let mut expire = {
        let dir = dir.clone();
        move || {
            for (path, text) in check_json_files(&dir, &[]).unwrap() {
                let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
                v["not_on_or_after"] = "2020-01-01T00:00:00Z".into();
                std::fs::write(&path, v.to_string()).unwrap();
            }
        }
    };
    kill_loop(
        "assertion cache",
        &env,
        &["aws-assume-role", "--show"],
        &dir,
        &["saml_response", "not_on_or_after"],
        20,
        &mut expire,
    );
}

// ---------------------------------------------------------------------------------
// --save-cookies
// ---------------------------------------------------------------------------------

/// Pids of the processes whose arguments name a path under `dir`.
fn processes_using(dir: &Path) -> Vec<u32> {
    let needle = dir.display().to_string();
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let pid: u32 = e.file_name().to_string_lossy().parse().ok()?;
            let cmdline = std::fs::read(e.path().join("cmdline")).ok()?;
            (String::from_utf8_lossy(&cmdline).contains(&needle) && alive(pid)).then_some(pid)
        })
        .collect()
}

#[test]
fn saved_cookie_jar_survives_sigkill() {
    // Headless logins take ~1 s each: fewer kills than for the other files.
    const KILLS: usize = 10;
    const CHROMIUM_KILLS: usize = 10;
    const SESSION: &str = "valid-session-crash-0123456789";
    let port = free_port();
    let callback = format!("http://localhost:{port}/saml");
    let idp = idp(&["--session-cookie", SESSION, "--callback", &callback]);
    let env = Env::new();
    // Chromium's temporary profiles go here, so that leftovers are counted exactly.
    let tmp = env.path("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    let env = env.var("TMPDIR", tmp.display().to_string());
    env.config(&format!(
        "[DEFAULT]\nidp_url = {}\nclient_id = test-client\nlisten_port = {port}\nbrowser = headless\nheadless_mode = chromium\ntimeout = 60\n",
        idp.url
    ));
    let jar = env.write(
        "jar.txt",
        &format!("#HttpOnly_127.0.0.1\tFALSE\t/\tFALSE\t0\tidp_session\t{SESSION}\n"),
    );
    let saved = env.path("saved-jar.txt");
    let private = |p: &Path| {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o600)).unwrap();
    };
    private(&jar);
    let (jar_s, saved_s) = (jar.display().to_string(), saved.display().to_string());
    let args = [
        "--cookies",
        &jar_s,
        "--save-cookies",
        &saved_s,
        "--no-cache",
        "get-token",
    ];
    let complete = |text: &str| -> Result<(), String> {
        if !text.starts_with("# Netscape HTTP Cookie File\n") || !text.ends_with('\n') {
            return Err(format!("not a whole jar: {text:?}"));
        }
        let cookie = text
            .lines()
            .find(|l| l.contains("\tidp_session\t"))
            .ok_or(format!("no idp_session line: {text:?}"))?;
        let fields: Vec<&str> = cookie.split('\t').collect();
        if fields.len() != 7 || fields[6].is_empty() {
            return Err(format!("torn cookie line {cookie:?}"));
        }
        Ok(())
    };
    let mut old_n = 0;
    let write_old = |n: usize| {
        let old = format!(
            "# Netscape HTTP Cookie File\n# old version {n}\n127.0.0.1\tFALSE\t/\tFALSE\t0\tidp_session\told-{n}\n"
        );
        std::fs::write(&saved, &old).unwrap();
        private(&saved);
        old
    };

    let mut rng = Rng::seeded("saved cookie jar");
    let check = |kill: usize, old: &str, problems: &mut Vec<String>| -> (usize, usize) {
        let left = sweep_temp_files(env.home.path());
        if left > 1 {
            problems.push(format!("kill {kill}: {left} temporary files left"));
        }
        let outcome = match std::fs::read_to_string(&saved) {
            Ok(text) if text == old => 0,
            Ok(text) => match complete(&text) {
                Ok(()) => 1,
                Err(e) => {
                    problems.push(format!("kill {kill}: {e}"));
                    2
                }
            },
            Err(e) => {
                problems.push(format!("kill {kill}: saved jar unreadable: {e}"));
                2
            }
        };
        (outcome, left)
    };

    // Kills inside the write of the jar.
    let (mut outcomes, mut temp_left, mut inside) = ([0; 3], 0, 0);
    let mut problems = Vec::new();
    for kill in 0..KILLS {
        let old = write_old(1000 + kill);
        if kill_inside_write(&env, &args, &saved, &mut rng) {
            inside += 1;
        }
        let (outcome, left) = check(kill, &old, &mut problems);
        outcomes[outcome] += 1;
        temp_left += left;
    }
    println!(
        "saved cookie jar: kills {KILLS}, inside the write {inside}, old-version outcomes {}, new-version outcomes {}, torn files {}, leftover temp files {temp_left}",
        outcomes[0], outcomes[1], outcomes[2]
    );
    assert!(problems.is_empty(), "{problems:#?}");
    assert_eq!(outcomes[2], 0, "torn files");
    assert_inside("saved cookie jar", inside, KILLS);

    // Kills at random moments of whole runs: Chromium must not outlive saml-login.
    let normal = normal_run(&env, &args, &mut || {
        old_n += 1;
        write_old(old_n);
    });
    let max_delay = normal.mul_f64(1.2);
    let (mut chromium_started, mut chromium_orphaned) = (0, Vec::new());
    for kill in 0..CHROMIUM_KILLS {
        let old = write_old(2000 + kill);
        let delay = rng.upto(max_delay);
        let mut cmd = env.saml_login();
        cmd.args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let mut run = GroupGuard::spawn(cmd);
        if kill % 2 == 0 {
            // Every other kill lands while Chromium runs (a random moment of a whole
            // run may miss it on a loaded machine): wait until it is there, then up to
            // a tenth of a run more.
            let until = Instant::now() + max_delay * 3;
            while descendants(run.id()).is_empty() && Instant::now() < until {
                std::thread::sleep(Duration::from_millis(20));
            }
            std::thread::sleep(delay / 10);
        } else {
            std::thread::sleep(delay);
        }
        // Chromium and its helpers, to find out whether they outlive saml-login.
        let family = descendants(run.id());
        let _ = run.child.kill();
        let _ = run.child.wait();
        if !family.is_empty() {
            chromium_started += 1;
            let killed = Instant::now();
            while family.iter().any(|(pid, _)| alive(*pid))
                && killed.elapsed() < Duration::from_secs(10)
            {
                std::thread::sleep(Duration::from_millis(50));
            }
            let alive: Vec<_> = family.iter().filter(|(pid, _)| alive(*pid)).collect();
            if !alive.is_empty() {
                chromium_orphaned.push(format!("kill {kill} after {delay:?}: {alive:?}"));
            }
        }
        drop(run);
        let (outcome, left) = check(kill + KILLS, &old, &mut problems);
        assert_ne!(outcome, 2, "{problems:#?}");
        temp_left += left;
    }
    // Profiles a killed run could not remove (they hold the IdP session): the next
    // run removes them.
    let profiles = || -> Vec<String> {
        std::fs::read_dir(&tmp)
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("saml-login-chromium-"))
            .collect()
    };
    let profiles_left = profiles().len();
    println!(
        "saved cookie jar: {CHROMIUM_KILLS} kills over whole runs; Chromium running at the kill {chromium_started}, alive 10 s after it {}, profiles left behind {profiles_left}; leftover temp files in all {temp_left}",
        chromium_orphaned.len()
    );
    assert!(chromium_orphaned.is_empty(), "{chromium_orphaned:#?}");
    assert!(
        chromium_started >= CHROMIUM_KILLS / 2,
        "only {chromium_started} kills found Chromium running"
    );
    assert!(problems.is_empty(), "{problems:#?}");
    write_old(3000);
    run_to_completion(&env, &args);
    assert!(
        profiles().is_empty(),
        "the next run removes the killed runs' profiles: {:?}",
        profiles()
    );
    assert!(
        processes_using(&tmp).is_empty(),
        "{:?}",
        processes_using(&tmp)
    );
}
