//! The release packages `scripts/package.sh` builds into `target/dist/`: both .deb
//! packages installed and removed in a scratch dpkg root whose package list is this
//! machine's (so their `Depends` are checked for real), and the static musl tarball run
//! in an empty chroot. Minutes of release builds: `cargo test` leaves this file out
//! (`test = false` in Cargo.toml) and scripts/test.sh runs it on its own with
//! `cargo test --test packaging`.

// The integration tests' harness; only `repo()` is used here.
#[allow(unused)]
mod support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::LazyLock;

use support::repo;

const VERSION: &str = env!("CARGO_PKG_VERSION");
const MUSL: &str = "x86_64-unknown-linux-musl";
/// Cold release builds of both packages plus the musl build take about 20 minutes on a
/// 2-core machine; this bounds the wait, not the expected time.
const PACKAGE_TIMEOUT: &str = "3600";

/// `target/dist/`, after one run of `scripts/package.sh` shared by every test here.
fn dist() -> &'static Path {
    static BUILT: LazyLock<Result<PathBuf, String>> = LazyLock::new(|| {
        let mut cmd = Command::new("timeout");
        cmd.args([
            "--kill-after=10",
            PACKAGE_TIMEOUT,
            "bash",
            "scripts/package.sh",
        ])
        .current_dir(repo());
        // Without what `cargo test` sets for its tests: build scripts that watch those
        // variables would otherwise rebuild the release binaries here, then again on
        // the next `bash scripts/package.sh` (measured: 10 minutes each way).
        for (key, _) in std::env::vars_os() {
            let key = key.to_string_lossy();
            let ours = key == "CARGO_HOME" || key == "CARGO_TARGET_DIR";
            if !ours && (key == "CARGO" || key.starts_with("CARGO_") || key == "LD_LIBRARY_PATH") {
                cmd.env_remove(&*key);
            }
        }
        let status = cmd
            .status()
            .map_err(|e| format!("cannot run scripts/package.sh: {e}"))?;
        if status.success() {
            Ok(repo().join("target/dist"))
        } else {
            Err(format!("scripts/package.sh failed: {status}"))
        }
    });
    match &*BUILT {
        Ok(dir) => dir,
        Err(e) => panic!("{e}"),
    }
}

fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn stdout(cmd: &mut Command) -> String {
    String::from_utf8(run(cmd).stdout).expect("UTF-8 output")
}

/// A dpkg root in a temporary directory. `host_packages`: start from this machine's
/// package list, so dependencies are checked against what is installed here (the files
/// of those packages are not copied: binaries run against the machine's libraries).
struct ScratchRoot {
    dir: tempfile::TempDir,
}

impl ScratchRoot {
    fn new(host_packages: bool) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let admin = dir.path().join("var/lib/dpkg");
        for sub in ["info", "updates", "triggers"] {
            fs::create_dir_all(admin.join(sub)).unwrap();
        }
        let status = if host_packages {
            fs::read_to_string("/var/lib/dpkg/status").expect("a Debian machine")
        } else {
            String::new()
        };
        fs::write(admin.join("status"), status).unwrap();
        fs::write(admin.join("available"), "").unwrap();
        ScratchRoot { dir }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn dpkg(&self) -> Command {
        let mut cmd = Command::new("dpkg");
        cmd.arg(format!("--root={}", self.dir.path().display()))
            // dpkg looks for ldconfig and start-stop-daemon on PATH.
            .env("PATH", "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin");
        cmd
    }
}

fn deb(name: &str) -> PathBuf {
    let path = dist().join(format!("{name}_{VERSION}-1_amd64.deb"));
    assert!(path.is_file(), "{} was not built", path.display());
    path
}

fn field(control: &str, name: &str) -> String {
    control
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{name}: ")))
        .unwrap_or_else(|| panic!("no {name} in:\n{control}"))
        .to_owned()
}

#[test]
fn deb_packages_install_run_and_remove_in_a_scratch_root() {
    let cli = deb("saml-login");
    let webview = deb("saml-login-webview");

    // What each package depends on: only the webview's pulls in WebKitGTK.
    let cli_depends = stdout(
        Command::new("dpkg-deb")
            .args(["--field"])
            .arg(&cli)
            .arg("Depends"),
    );
    assert!(cli_depends.contains("libc6"), "{cli_depends}");
    assert!(!cli_depends.contains("webkit"), "{cli_depends}");
    let webview_depends = stdout(
        Command::new("dpkg-deb")
            .args(["--field"])
            .arg(&webview)
            .arg("Depends"),
    );
    assert!(
        webview_depends.contains("libwebkit2gtk-4.1-0"),
        "{webview_depends}"
    );

    let root = ScratchRoot::new(true);
    run(root.dpkg().arg("--install").arg(&cli).arg(&webview));

    let version = stdout(Command::new(root.path("usr/bin/saml-login")).arg("--version"));
    assert_eq!(version.trim(), format!("saml-login {VERSION}"));
    for bin in ["aws-console", "pkce-login"] {
        let version = stdout(Command::new(root.path(&format!("usr/bin/{bin}"))).arg("--version"));
        assert_eq!(version.trim(), format!("{bin} {VERSION}"));
    }
    assert!(root.path("usr/bin/saml-login-webview").is_file());

    // The man page, gzipped as Debian wants it, and what man shows.
    let man = root.path("usr/share/man/man1/saml-login.1.gz");
    let page = stdout(Command::new("gzip").arg("-dc").arg(&man));
    assert!(page.contains(".TH saml-login 1"), "{page}");
    assert!(page.contains(r"credential\-process"), "{page}");
    let rendered = stdout(
        Command::new("man")
            .arg("-l")
            .arg(&man)
            .env("MANPAGER", "cat")
            .env("MANWIDTH", "100"),
    );
    assert!(rendered.contains("saml-login"), "{rendered}");

    // Completions where bash-completion, zsh and fish look for them.
    for (rel, marker) in [
        (
            "usr/share/bash-completion/completions/saml-login",
            "complete -F",
        ),
        (
            "usr/share/zsh/vendor-completions/_saml-login",
            "#compdef saml-login",
        ),
        (
            "usr/share/fish/vendor_completions.d/saml-login.fish",
            "complete -c saml-login",
        ),
    ] {
        let text = fs::read_to_string(root.path(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
        assert!(text.contains(marker), "{rel} has no {marker:?}");
    }
    // bash itself reads the script.
    run(Command::new("bash")
        .arg("-n")
        .arg(root.path("usr/share/bash-completion/completions/saml-login")));

    for pkg in ["saml-login", "saml-login-webview"] {
        let copyright =
            fs::read_to_string(root.path(&format!("usr/share/doc/{pkg}/copyright"))).unwrap();
        assert!(copyright.contains("Apache License"), "{pkg}: {copyright}");
        assert!(
            root.path(&format!("usr/share/doc/{pkg}/README.md"))
                .is_file()
        );
    }

    let status = stdout(root.dpkg().args(["--status", "saml-login"]));
    assert_eq!(field(&status, "Status"), "install ok installed");
    assert_eq!(field(&status, "Version"), format!("{VERSION}-1"));

    run(root
        .dpkg()
        .args(["--purge", "saml-login", "saml-login-webview"]));
    for rel in [
        "usr/bin/saml-login",
        "usr/bin/saml-login-webview",
        "usr/share/man/man1/saml-login.1.gz",
        "usr/share/bash-completion/completions/saml-login",
        "usr/share/doc/saml-login/copyright",
    ] {
        assert!(!root.path(rel).exists(), "{rel} is left after --purge");
    }
}

#[test]
fn webview_deb_is_refused_where_webkitgtk_is_missing() {
    // A root with no packages at all: dpkg must refuse the webview for its dependencies,
    // which shows the Depends above are enforced, not decoration.
    let root = ScratchRoot::new(false);
    let out = root
        .dpkg()
        .arg("--install")
        .arg(deb("saml-login-webview"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("libwebkit2gtk-4.1-0"), "{stderr}");
}

#[test]
fn musl_tarball_is_static_and_runs_in_an_empty_chroot() {
    let name = format!("saml-login-{VERSION}-{MUSL}");
    let tarball = dist().join(format!("{name}.tar.gz"));
    assert!(tarball.is_file(), "{} was not built", tarball.display());

    let scratch = tempfile::tempdir().unwrap();
    run(Command::new("tar")
        .arg("-xzf")
        .arg(&tarball)
        .arg("-C")
        .arg(scratch.path()));
    let top = scratch.path().join(&name);
    for file in [
        "saml-login",
        "aws-console",
        "pkce-login",
        "README.md",
        "LICENSE",
        "saml-login.1",
    ] {
        assert!(top.join(file).is_file(), "{file} is not in {name}.tar.gz");
    }

    for bin in ["saml-login", "aws-console", "pkce-login"] {
        let elf = fs::read(top.join(bin)).unwrap();
        assert!(is_static_elf(&elf), "{bin} asks for a dynamic loader");
    }

    // An empty root: no libc, no loader, nothing but the binary (a user namespace makes
    // the chroot work without root too).
    let chroot = tempfile::tempdir().unwrap();
    fs::copy(top.join("saml-login"), chroot.path().join("saml-login")).unwrap();
    let version = stdout(
        Command::new("unshare")
            .arg("--map-root-user")
            .arg(format!("--root={}", chroot.path().display()))
            .args(["/saml-login", "--version"])
            .env_clear(),
    );
    assert_eq!(version.trim(), format!("saml-login {VERSION}"));
}

#[test]
fn sha256sums_cover_every_artifact() {
    let sums = fs::read_to_string(dist().join("SHA256SUMS")).unwrap();
    let names: Vec<&str> = sums
        .lines()
        .map(|l| l.split_whitespace().nth(1).unwrap().trim_start_matches('*'))
        .collect();
    let mut expected = vec![
        format!("saml-login-webview_{VERSION}-1_amd64.deb"),
        format!("saml-login-{VERSION}-{MUSL}.tar.gz"),
        format!("saml-login_{VERSION}-1_amd64.deb"),
    ];
    expected.sort();
    let mut names: Vec<String> = names.into_iter().map(str::to_owned).collect();
    names.sort();
    assert_eq!(names, expected);
    run(Command::new("sha256sum")
        .args(["--check", "--strict", "SHA256SUMS"])
        .current_dir(dist()));
}

/// An x86-64 ELF executable with no `PT_INTERP` program header: the kernel runs it
/// without a dynamic loader, so it needs no shared library.
fn is_static_elf(elf: &[u8]) -> bool {
    const PT_INTERP: u32 = 3;
    assert_eq!(&elf[..4], b"\x7fELF", "not an ELF file");
    assert_eq!(elf[4], 2, "not a 64-bit ELF file");
    let u16_at = |at: usize| u16::from_le_bytes(elf[at..at + 2].try_into().unwrap());
    let u64_at = |at: usize| u64::from_le_bytes(elf[at..at + 8].try_into().unwrap());
    let phoff = usize::try_from(u64_at(0x20)).unwrap();
    let phentsize = usize::from(u16_at(0x36));
    let phnum = usize::from(u16_at(0x38));
    (0..phnum).all(|i| {
        let at = phoff + i * phentsize;
        u32::from_le_bytes(elf[at..at + 4].try_into().unwrap()) != PT_INTERP
    })
}

/// The workspace's crates as `cargo publish --dry-run --workspace` packages them:
/// `target/package/`, once for every test here. `--no-verify`: cargo's own check builds
/// every package once more; [`packaged_crates_install_and_log_in`] builds the same
/// packages (all seven are dependencies of the two it installs) and then runs them, so
/// the verification was a second build that proved less.
fn published() -> &'static Path {
    static PACKAGED: LazyLock<Result<PathBuf, String>> = LazyLock::new(|| {
        let mut cmd = cargo_without_test_env();
        // --allow-dirty: the working tree of a developer's run; CI's clone is clean.
        cmd.args([
            "publish",
            "--dry-run",
            "--workspace",
            "--locked",
            "--allow-dirty",
            "--no-verify",
        ]);
        let out = cmd
            .output()
            .map_err(|e| format!("cannot run cargo publish: {e}"))?;
        if out.status.success() {
            Ok(repo().join("target/package"))
        } else {
            Err(format!(
                "cargo publish --dry-run --workspace failed ({}):\n{}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    });
    match &*PACKAGED {
        Ok(dir) => dir,
        Err(e) => panic!("{e}"),
    }
}

/// `cargo` in the repository, without what `cargo test` sets for its tests (see
/// [`dist`]).
fn cargo_without_test_env() -> Command {
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cmd.current_dir(repo());
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy();
        let ours = key == "CARGO_HOME" || key == "CARGO_TARGET_DIR";
        if !ours && (key == "CARGO" || key.starts_with("CARGO_") || key == "LD_LIBRARY_PATH") {
            cmd.env_remove(&*key);
        }
    }
    cmd
}

/// The `.crate` file `cargo publish --dry-run --workspace` made for `name`: in
/// `target/package/tmp-crate/` (where publishing keeps them; `cargo package` leaves
/// them in `target/package/`).
fn crate_file(name: &str) -> PathBuf {
    let file = format!("{name}-{VERSION}.crate");
    let dir = published();
    [dir.join("tmp-crate").join(&file), dir.join(&file)]
        .into_iter()
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("{file} was not packaged in {}", dir.display()))
}

/// The crates `cargo publish --workspace` must package: all of the workspace's.
const CRATES: [&str; 7] = [
    "saml-login",
    "saml-login-capture",
    "saml-login-system",
    "saml-login-http",
    "saml-login-headless",
    "saml-login-webview",
    "saml-login-headless-chrome",
];

#[test]
fn every_crate_is_packaged_without_tests_fixtures_or_scripts() {
    for name in CRATES {
        let krate = crate_file(name);
        let list = stdout(Command::new("tar").arg("-tzf").arg(&krate));
        let top = format!("{name}-{VERSION}/");
        for path in list.lines() {
            let inside = path.strip_prefix(&top).unwrap_or(path);
            for unwanted in [
                "tests/",
                "fixtures/",
                "scripts/",
                "fuzz/",
                ".ci/",
                ".github/",
                "benches/",
                "examples/",
                "vendor/",
                "browsers/",
            ] {
                assert!(
                    !inside.starts_with(unwanted),
                    "{name}'s package holds {inside}, which `cargo install` does not need"
                );
            }
        }
        assert!(
            list.lines().any(|p| p == format!("{top}Cargo.toml")),
            "{name}: no Cargo.toml in\n{list}"
        );
    }
    // The patched DevTools client goes out with its license and upstream's credit.
    let chrome = stdout(
        Command::new("tar")
            .arg("-tzf")
            .arg(crate_file("saml-login-headless-chrome")),
    );
    for file in ["LICENSE.md", "PATCHES.md", "json/browser_protocol.json"] {
        assert!(
            chrome.contains(&format!("saml-login-headless-chrome-{VERSION}/{file}")),
            "saml-login-headless-chrome's package lacks {file}"
        );
    }
}

/// `cargo install` of the packaged saml-login and webview helper, with their
/// dependencies taken from the other packages (as crates.io would serve them), into a
/// scratch root; the installed binary then logs in from a saved response against moto.
#[test]
fn packaged_crates_install_and_log_in() {
    let dir = published();
    let root = tempfile::tempdir().unwrap();
    let mut patches = Vec::new();
    for name in CRATES.iter().skip(1) {
        let unpacked = dir.join(format!("{name}-{VERSION}"));
        if !unpacked.is_dir() {
            run(Command::new("tar")
                .arg("-xzf")
                .arg(crate_file(name))
                .arg("-C")
                .arg(dir));
        }
        patches.push(format!(
            "patch.crates-io.{name}.path=\"{}\"",
            unpacked.display()
        ));
    }
    for name in ["saml-login", "saml-login-webview"] {
        let unpacked = dir.join(format!("{name}-{VERSION}"));
        if !unpacked.is_dir() {
            run(Command::new("tar")
                .arg("-xzf")
                .arg(crate_file(name))
                .arg("-C")
                .arg(dir));
        }
        let mut cmd = cargo_without_test_env();
        cmd.arg("install")
            .arg("--path")
            .arg(&unpacked)
            .arg("--root")
            .arg(root.path())
            // The dev profile and the workspace's target directory: the dependencies
            // the tests already built are reused (a release build is what users get;
            // README gives its time). This build is also the packages' verification
            // (see [`published`]). --offline: resolved
            // from the crates already downloaded, which are the workspace's locked
            // versions (a package's Cargo.lock is used only with --locked, which a
            // patched dependency rules out), so no new release of a dependency can
            // change what this test builds.
            .args(["--debug", "--offline", "--target-dir"])
            .arg(repo().join("target"))
            // The workspace's dev profile (no debug info for dependencies): a package's
            // manifest carries no [profile], and without this every dependency would
            // be built again.
            .args(["--config", "profile.dev.package.\"*\".debug=false"])
            .arg("--quiet");
        for patch in &patches {
            cmd.args(["--config", patch]);
        }
        run(&mut cmd);
    }
    let bin = root.path().join("bin");
    for program in [
        "saml-login",
        "aws-console",
        "pkce-login",
        "saml-login-webview",
    ] {
        assert!(
            bin.join(program).is_file(),
            "cargo install left no {program}"
        );
    }

    let version = stdout(Command::new(bin.join("saml-login")).arg("--version"));
    assert_eq!(version.trim(), format!("saml-login {VERSION}"));

    // A whole login from a saved response: the assertion parsed, STS (moto) called,
    // the profile written.
    let idp = support::idp(&["--auto-session"]);
    let moto = support::moto();
    let env = support::Env::new().sts(&moto);
    env.config(&support::config_for(&idp, support::free_port()));
    env.write("saved.b64", &support::fetch_saml_response(&idp));
    let out = env
        .command(bin.join("saml-login"))
        .arg("--saml-response-file")
        .arg(env.path("saved.b64"))
        .args([
            "aws-assume-role",
            "--account",
            "123456789012",
            "--role",
            "Developer",
        ])
        .args(["--profile", "installed"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the installed saml-login failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let credentials = env.credentials();
    assert!(credentials.contains("[installed]"), "{credentials}");
    assert!(credentials.contains("aws_session_token"), "{credentials}");
}
