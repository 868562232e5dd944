//! Crash safety: saml-login killed with SIGKILL (`Child::kill` on Unix) at random
//! moments spread over a whole run never leaves a torn secret file. After every kill the
//! credentials file, each cache file and a saved cookie jar is either the old version,
//! absent (caches, before their first write), or a complete new version; never a mix.
//!
//! Delays are drawn uniformly from 0..=1.2x a measured normal run by a seeded PRNG
//! (set `CRASH_SEED` to replay; the seed is printed). Temporary files a killed process
//! could not remove (`.saml-login-*.tmp`) are counted, printed and removed; at most
//! one may appear per kill.

mod support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::*;

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

fn spawn(env: &Env, args: &[&str]) -> Child {
    env.saml_login()
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// One run left alone; it must succeed.
fn run_to_completion(env: &Env, args: &[&str]) {
    let out = env
        .saml_login()
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "a run left alone fails: {}",
        String::from_utf8_lossy(&out.stderr)
    );
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

/// Kill `child` after `delay` (it may have finished already: that is a run to the end).
fn kill_after(mut child: Child, delay: Duration) -> bool {
    std::thread::sleep(delay);
    let finished = matches!(child.try_wait(), Ok(Some(_)));
    let _ = child.kill(); // SIGKILL on Unix
    let _ = child.wait();
    !finished
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
fn credentials_file_survives_sigkill_at_any_moment() {
    const KILLS: usize = 200;
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
    let a = args("p7");
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    let normal = normal_run(&env, &a, &mut || {});
    let max_delay = normal.mul_f64(1.2);
    println!("credentials file: a normal run takes {normal:?}; delays 0..={max_delay:?}");

    let (mut old_outcomes, mut new_outcomes, mut torn, mut temp_left, mut killed_alive) =
        (0, 0, 0, 0, 0);
    let mut problems = Vec::new();
    let mut old = std::fs::read_to_string(env.credentials_path()).unwrap();
    for kill in 0..KILLS {
        // p0..p59: most updates, some appends of a new section.
        let profile = format!("p{}", rng.below(60));
        let a = args(&profile);
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        let delay = rng.upto(max_delay);
        if kill_after(spawn(&env, &a), delay) {
            killed_alive += 1;
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
                    problems.push(format!("kill {kill} after {delay:?} ({profile}): {e}"));
                    old = new;
                }
            },
            Err(e) => {
                torn += 1;
                problems.push(format!("kill {kill}: credentials file unreadable: {e}"));
            }
        }
    }
    println!(
        "credentials file: kills {KILLS} (still running when killed: {killed_alive}), old-version outcomes {old_outcomes}, new-version outcomes {new_outcomes}, torn files {torn}, leftover temp files {temp_left}"
    );
    assert!(problems.is_empty(), "{problems:#?}");
    assert_eq!(torn, 0);
    // Under load a run can take longer than measured; then fewer runs reach the write.
    // The figure is printed; that writes happen at all is checked below.
    if new_outcomes == 0 {
        println!("credentials file: warning: no run reached the write (machine busy?)");
    }
    // The survivor is still a file the AWS SDKs read.
    let text = std::fs::read_to_string(env.credentials_path()).unwrap();
    let updated = sections(&text)
        .unwrap()
        .1
        .into_iter()
        .find(|(_, body)| body.contains("aws_access_key_id = ASIA"))
        .expect("some profile was updated")
        .0;
    assert_eq!(
        caller_identity(&moto, &env.credentials_path(), &updated),
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
    absent: usize,
    old: usize,
    new: usize,
    torn: usize,
    temp_left: usize,
}

/// Run `args` `kills` times, killing it at random; `dir` holds the cache files.
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
    let normal = normal_run(env, args, before_each);
    let max_delay = normal.mul_f64(1.2);
    println!("{name}: a normal run takes {normal:?}; delays 0..={max_delay:?}");
    let mut f = CacheFigures {
        kills,
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
        let delay = rng.upto(max_delay);
        kill_after(spawn(env, args), delay);
        let left = sweep_temp_files(dir);
        f.temp_left += left;
        if left > 1 {
            problems.push(format!("kill {kill}: {left} temporary files left"));
        }
        match check_json_files(dir, fields) {
            Ok(after) if after.is_empty() => f.absent += 1,
            Ok(after) if after == before => f.old += 1,
            Ok(after) if after.len() == 1 => f.new += 1,
            Ok(after) => problems.push(format!("kill {kill}: {} cache files", after.len())),
            Err(e) => {
                f.torn += 1;
                problems.push(format!("kill {kill} after {delay:?}: {e}"));
            }
        }
    }
    println!(
        "{name}: kills {}, absent {}, old-version outcomes {}, new-version outcomes {}, torn files {}, leftover temp files {}",
        f.kills, f.absent, f.old, f.new, f.torn, f.temp_left
    );
    assert!(problems.is_empty(), "{name}: {problems:#?}");
    assert_eq!(f.torn, 0);
    if f.new == 0 {
        println!("{name}: warning: no killed run reached the write (machine busy?)");
    }
    // One run left alone ends with a whole new file.
    before_each();
    run_to_completion(env, args);
    assert_eq!(
        check_json_files(dir, fields).unwrap().len(),
        1,
        "{name}: a new file"
    );
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
        60,
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
        60,
        &mut expire,
    );
}

// ---------------------------------------------------------------------------------
// --save-cookies
// ---------------------------------------------------------------------------------

/// Pids of `root`'s descendants.
fn descendants(root: u32) -> Vec<(u32, String)> {
    let mut parent = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().filter_map(|e| e.ok()) {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(e.path().join("stat")) else {
            continue;
        };
        // pid (comm) state ppid ...
        let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
            continue;
        };
        let ppid: u32 = rest
            .split_whitespace()
            .nth(1)
            .unwrap_or("0")
            .parse()
            .unwrap_or(0);
        let cmdline = std::fs::read(e.path().join("cmdline"))
            .map(|c| String::from_utf8_lossy(&c).replace('\0', " "))
            .unwrap_or_default();
        parent.push((pid, ppid, cmdline));
    }
    let mut found: BTreeSet<u32> = BTreeSet::from([root]);
    loop {
        let before = found.len();
        for (pid, ppid, _) in &parent {
            if found.contains(ppid) {
                found.insert(*pid);
            }
        }
        if found.len() == before {
            break;
        }
    }
    parent
        .into_iter()
        .filter(|(pid, _, _)| *pid != root && found.contains(pid))
        .map(|(pid, _, c)| (pid, c))
        .collect()
}

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

fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        s.rsplit_once(')')
            .is_some_and(|(_, r)| !r.trim_start().starts_with('Z'))
    })
}

#[test]
fn saved_cookie_jar_survives_sigkill() {
    // Headless logins take ~1.5 s each, so this one kills 30 times rather than 60+.
    const KILLS: usize = 30;
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
        "[DEFAULT]\nidp_url = {}\nclient_id = test-client\nlisten_port = {port}\nbrowser = headless\ntimeout = 60\n",
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
    let normal = normal_run(&env, &args, &mut || {
        old_n += 1;
        write_old(old_n);
    });
    let max_delay = normal.mul_f64(1.2);
    println!("saved cookie jar: a normal run takes {normal:?}; delays 0..={max_delay:?}");
    let (mut old_outcomes, mut new_outcomes, mut torn, mut temp_left) = (0, 0, 0, 0);
    let (mut chromium_started, mut chromium_orphaned, mut profiles_left) = (0, 0, 0);
    let mut problems = Vec::new();
    for kill in 0..KILLS {
        let old = write_old(1000 + kill);
        let delay = rng.upto(max_delay);
        let mut child = spawn(&env, &args);
        std::thread::sleep(delay);
        // Chromium and its helpers, to find out whether they outlive saml-login.
        let family = descendants(child.id());
        let _ = child.kill();
        let _ = child.wait();
        if !family.is_empty() {
            chromium_started += 1;
            std::thread::sleep(Duration::from_millis(300));
            if family.iter().any(|(pid, _)| alive(*pid)) {
                chromium_orphaned += 1;
            }
        }
        // Clean up what our killed run started, by pid: every process running on a
        // profile in this test's TMPDIR (helpers forked after the snapshot included).
        for _ in 0..40 {
            let ours = processes_using(&tmp);
            if ours.is_empty() {
                break;
            }
            for pid in ours {
                let _ = Command::new("kill")
                    .args(["-KILL", &pid.to_string()])
                    .stderr(Stdio::null())
                    .status();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        // Temporary Chromium profiles a killed run could not remove.
        for e in std::fs::read_dir(&tmp).unwrap().filter_map(|e| e.ok()) {
            if e.file_name()
                .to_string_lossy()
                .starts_with("saml-login-chromium-")
            {
                profiles_left += 1;
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
        let left = sweep_temp_files(env.home.path());
        temp_left += left;
        if left > 1 {
            problems.push(format!("kill {kill}: {left} temporary files left"));
        }
        match std::fs::read_to_string(&saved) {
            Ok(text) if text == old => old_outcomes += 1,
            Ok(text) => match complete(&text) {
                Ok(()) => new_outcomes += 1,
                Err(e) => {
                    torn += 1;
                    problems.push(format!("kill {kill} after {delay:?}: {e}"));
                }
            },
            Err(e) => {
                torn += 1;
                problems.push(format!("kill {kill}: saved jar unreadable: {e}"));
            }
        }
    }
    println!(
        "saved cookie jar: kills {KILLS}, old-version outcomes {old_outcomes}, new-version outcomes {new_outcomes}, torn files {torn}, leftover temp files {temp_left}; \
         Chromium running at the kill {chromium_started}, still alive 300 ms after it {chromium_orphaned}, temporary Chromium profiles left behind {profiles_left}"
    );
    assert!(problems.is_empty(), "{problems:#?}");
    assert_eq!(torn, 0);
    if new_outcomes == 0 {
        println!("saved cookie jar: warning: no killed run reached the write (machine busy?)");
    }
}
