//! The machine's process table as tests see it (through `sysinfo`): a test's own
//! processes, descendants, groups, Chromium left running.

use super::Env;

/// A live process as the OS lists it: its id, its parent's and its command line (the
/// arguments joined by spaces).
pub struct Proc {
    pub pid: u32,
    pub parent: Option<u32>,
    pub cmd: String,
}

/// Every live process of the machine (zombies and threads left out), read through
/// `sysinfo`, which knows each OS's process table (`/proc` is only Linux's).
pub fn processes() -> Vec<Proc> {
    snapshot(sysinfo::ProcessesToUpdate::All, false)
        .processes()
        .values()
        .filter(|p| live(p))
        .map(proc_of)
        .collect()
}

/// [`processes`] with each one's environment (`KEY=value` entries separated by NUL;
/// empty where it cannot be read, as for another user's process).
pub fn processes_with_environ() -> Vec<(Proc, String)> {
    snapshot(sysinfo::ProcessesToUpdate::All, true)
        .processes()
        .values()
        .filter(|p| live(p))
        .map(|p| (proc_of(p), joined(p.environ(), "\0")))
        .collect()
}

fn proc_of(p: &sysinfo::Process) -> Proc {
    Proc {
        pid: p.pid().as_u32(),
        parent: p.parent().map(sysinfo::Pid::as_u32),
        cmd: joined(p.cmd(), " "),
    }
}

fn joined(parts: &[std::ffi::OsString], separator: &str) -> String {
    parts
        .iter()
        .map(|a| a.to_string_lossy())
        .collect::<Vec<_>>()
        .join(separator)
}

/// The process table (`which` of it) with command lines, and environments when
/// `environ`, read now.
pub(super) fn snapshot(which: sysinfo::ProcessesToUpdate<'_>, environ: bool) -> sysinfo::System {
    use sysinfo::{ProcessRefreshKind, UpdateKind};
    static NO_OPEN_FILES: std::sync::Once = std::sync::Once::new();
    // sysinfo keeps every process's `stat` open on Linux by default: a test harness
    // must not hold descriptors of the processes it watches.
    NO_OPEN_FILES.call_once(|| {
        sysinfo::set_open_files_limit(0);
    });
    let mut system = sysinfo::System::new();
    system.refresh_processes_specifics(
        which,
        true,
        ProcessRefreshKind::nothing()
            .without_tasks()
            .with_cmd(UpdateKind::Always)
            .with_environ(if environ {
                UpdateKind::Always
            } else {
                UpdateKind::Never
            }),
    );
    system
}

/// A process, not a thread, that runs (a zombie has ended).
fn live(p: &sysinfo::Process) -> bool {
    p.thread_kind().is_none() && p.status() != sysinfo::ProcessStatus::Zombie
}

/// The live processes in process group `pgid`. Process groups are a Unix notion that
/// `sysinfo` does not show: on Linux each one's group is read from `/proc/PID/stat`
/// (getpgid(2) answers 0 across a PID namespace, as in a container); elsewhere the
/// group is taken as the process `pgid` and its descendants.
pub(super) fn group_processes(pgid: u32) -> Vec<Proc> {
    let all = processes();
    #[cfg(target_os = "linux")]
    {
        let group_of = |pid: u32| -> Option<u32> {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            // pid (comm) state ppid pgrp ...
            stat.rsplit_once(')')?
                .1
                .split_whitespace()
                .nth(2)?
                .parse()
                .ok()
        };
        all.into_iter()
            .filter(|p| group_of(p.pid) == Some(pgid))
            .collect()
    }
    #[cfg(not(target_os = "linux"))]
    {
        let family = descendants_in(&all, pgid);
        all.into_iter()
            .filter(|p| p.pid == pgid || family.contains(&p.pid))
            .collect()
    }
}

/// The command lines of the live processes whose arguments name `needle` (a test's own
/// TMPDIR, profile or HOME): how a test counts only its own processes.
pub fn processes_naming(needle: &str) -> Vec<String> {
    processes()
        .into_iter()
        .filter(|p| p.cmd.contains(needle))
        .map(|p| p.cmd)
        .collect()
}

/// The pids of `root`'s descendants in `all`.
fn descendants_in(all: &[Proc], root: u32) -> std::collections::BTreeSet<u32> {
    let mut found = std::collections::BTreeSet::from([root]);
    loop {
        let before = found.len();
        for p in all {
            if p.parent.is_some_and(|parent| found.contains(&parent)) {
                found.insert(p.pid);
            }
        }
        if found.len() == before {
            break;
        }
    }
    found.remove(&root);
    found
}

/// Pids and command lines of `root`'s live descendants.
pub fn descendants(root: u32) -> Vec<(u32, String)> {
    let all = processes();
    let found = descendants_in(&all, root);
    all.into_iter()
        .filter(|p| found.contains(&p.pid))
        .map(|p| (p.pid, p.cmd))
        .collect()
}

/// Whether `pid` runs (exists and is not a zombie).
pub fn alive(pid: u32) -> bool {
    let pid = sysinfo::Pid::from_u32(pid);
    snapshot(sysinfo::ProcessesToUpdate::Some(&[pid]), false)
        .process(pid)
        .is_some_and(live)
}

/// The live Chromium processes started in `env` (browser, helpers and the crash
/// handlers it double-forks, which are no one's children): each names `env`'s HOME
/// (a profile under its TMPDIR, or the crash database under its `.config`).
pub fn chromium_of(env: &Env) -> Vec<String> {
    processes_naming(&env.home.path().display().to_string())
        .into_iter()
        .filter(|c| c.contains("chromium") || c.contains("chrome"))
        .collect()
}

/// The harness's view of processes (through `sysinfo`) sees what a test starts, and
/// sees it end: the checks built on it ("no Chromium left", "no secret on a command
/// line") would otherwise pass on an empty list.
#[test]
fn the_process_helpers_see_a_test_s_children_and_their_end() {
    use super::{GroupGuard, python};
    use std::time::{Duration, Instant};

    let env = Env::new();
    let marker = env.tmp().join("marker").display().to_string();
    let mut cmd = env.command(python());
    cmd.args(["-c", "import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)', sys.argv[1] + '-grandchild']); time.sleep(60)"])
        .arg(&marker);
    let run = GroupGuard::spawn(cmd);
    let leader = run.id();
    let deadline = Instant::now() + Duration::from_secs(20);
    // Until the grandchild has run its program: between its fork and its exec it shows
    // its parent's command line (seen once under load).
    let family = loop {
        let family = descendants(leader);
        let execed = family
            .iter()
            .any(|(_, cmd)| cmd.contains(&format!("{marker}-grandchild")));
        if execed || Instant::now() >= deadline {
            break family;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(family.len(), 1, "the grandchild: {family:?}");
    let (grandchild, cmd) = &family[0];
    assert!(cmd.contains(&format!("{marker}-grandchild")), "{cmd}");
    assert!(alive(leader) && alive(*grandchild));
    let named = processes_naming(&marker);
    assert_eq!(named.len(), 2, "the leader and the grandchild: {named:?}");
    let group: Vec<u32> = group_processes(leader).iter().map(|p| p.pid).collect();
    assert!(
        group.contains(&leader) && group.contains(grandchild),
        "{group:?}"
    );
    let grandchild = *grandchild;
    drop(run);
    let deadline = Instant::now() + Duration::from_secs(10);
    while alive(grandchild) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        !alive(leader) && !alive(grandchild),
        "the guard killed both"
    );
    assert!(processes_naming(&marker).is_empty());
}

/// `program` run as another local user (uid and gid 65534, no groups: `setpriv`, from
/// util-linux) in `/`; the caller adds arguments and stdio. Linux only; switching user
/// needs root, as CI runs the suite.
#[cfg(target_os = "linux")]
pub fn as_uid_65534(program: &str) -> std::process::Command {
    let mut cmd = std::process::Command::new("setpriv");
    cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups", program])
        .current_dir("/");
    cmd
}

/// Python `script` (`-c`, unbuffered) as another local user ([`as_uid_65534`]), with the
/// system's python3 (a per-user Python may not be readable by that user).
#[cfg(target_os = "linux")]
pub fn python_as_uid_65534(script: &str) -> std::process::Command {
    let mut cmd = as_uid_65534("/usr/bin/python3");
    cmd.args(["-u", "-c", script]);
    cmd
}
