//! A short expect API over a finished command: [`Ran`] holds its output and checks it
//! in a chain (`env.call(&["get-token"]).success().stderr_has("...")`); a failed check
//! panics with the command, the exit status, stdout and stderr, so a failing test shows
//! everything without hand-reading the output.

use std::process::Output;

use predicates::Predicate as _;

use super::Env;

/// A finished command's output, checked through the methods below. Each check returns
/// the `Ran` so that checks chain; `out` is there for what no check covers.
pub struct Ran {
    pub out: Output,
    what: String,
}

impl Ran {
    /// `out` of the command described as `what` (named when a check fails).
    pub fn new(what: impl Into<String>, out: Output) -> Ran {
        Ran {
            out,
            what: what.into(),
        }
    }

    /// Name the case a check is about (`what` of a loop's round), shown when one fails.
    pub fn context(mut self, case: impl std::fmt::Display) -> Self {
        self.what = format!("[{case}] {}", self.what);
        self
    }

    /// stdout as text (lossy).
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.out.stdout).into_owned()
    }

    /// stdout as UTF-8 text for the checks on it: a stdout that is not text fails them.
    #[track_caller]
    fn stdout_text(&self) -> String {
        match std::str::from_utf8(&self.out.stdout) {
            Ok(text) => text.to_owned(),
            Err(e) => self.fail(&format!("stdout is not UTF-8 text: {e}")),
        }
    }

    /// stderr as text (lossy).
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.out.stderr).into_owned()
    }

    /// Fail the test: `why`, then everything the command did.
    #[track_caller]
    pub fn fail(&self, why: &str) -> ! {
        panic!(
            "{why}\ncommand: {}\nstatus: {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.what,
            self.out.status,
            self.stdout(),
            self.stderr()
        )
    }

    /// Check `holds`, or fail with `why`.
    #[track_caller]
    pub fn check(self, holds: bool, why: &str) -> Self {
        if !holds {
            self.fail(why);
        }
        self
    }

    /// The command exited 0.
    #[track_caller]
    pub fn success(self) -> Self {
        let ok = self.out.status.success();
        self.check(ok, "expected success")
    }

    /// The command did not exit 0.
    #[track_caller]
    pub fn failure(self) -> Self {
        let failed = !self.out.status.success();
        self.check(failed, "expected a failure")
    }

    /// The command exited with `code`.
    #[track_caller]
    pub fn code(self, code: i32) -> Self {
        let same = self.out.status.code() == Some(code);
        self.check(same, &format!("expected exit code {code}"))
    }

    /// stderr contains `needle`.
    #[track_caller]
    pub fn stderr_has(self, needle: &str) -> Self {
        let has = self.stderr().contains(needle);
        self.check(has, &format!("expected stderr to contain {needle:?}"))
    }

    /// stderr does not contain `needle`.
    #[track_caller]
    pub fn stderr_lacks(self, needle: &str) -> Self {
        let lacks = !self.stderr().contains(needle);
        self.check(lacks, &format!("expected stderr without {needle:?}"))
    }

    /// stderr is exactly `text`.
    #[track_caller]
    pub fn stderr_eq(self, text: &str) -> Self {
        let same = self.out.stderr == text.as_bytes();
        self.check(same, &format!("expected stderr to be exactly {text:?}"))
    }

    /// stderr starts with `prefix`.
    #[track_caller]
    pub fn stderr_starts(self, prefix: &str) -> Self {
        let starts = self.stderr().starts_with(prefix);
        self.check(starts, &format!("expected stderr to start with {prefix:?}"))
    }

    /// stdout contains `needle`.
    #[track_caller]
    pub fn stdout_has(self, needle: &str) -> Self {
        let has = self.stdout_text().contains(needle);
        self.check(has, &format!("expected stdout to contain {needle:?}"))
    }

    /// stdout does not contain `needle`.
    #[track_caller]
    pub fn stdout_lacks(self, needle: &str) -> Self {
        let lacks = !self.stdout_text().contains(needle);
        self.check(lacks, &format!("expected stdout without {needle:?}"))
    }

    /// stdout is exactly `text`.
    #[track_caller]
    pub fn stdout_eq(self, text: &str) -> Self {
        let same = self.out.stdout == text.as_bytes();
        self.check(same, &format!("expected stdout to be exactly {text:?}"))
    }

    /// stdout is empty.
    #[track_caller]
    pub fn stdout_empty(self) -> Self {
        let empty = self.out.stdout.is_empty();
        self.check(empty, "expected an empty stdout")
    }

    /// stderr matches the regular expression `re` (anywhere in it).
    #[track_caller]
    pub fn stderr_matches(self, re: &str) -> Self {
        let matches = predicates::str::is_match(re)
            .unwrap_or_else(|e| panic!("bad regex {re:?}: {e}"))
            .eval(&self.stderr());
        self.check(matches, &format!("expected stderr to match /{re}/"))
    }

    /// stdout matches the regular expression `re` (anywhere in it).
    #[track_caller]
    pub fn stdout_matches(self, re: &str) -> Self {
        let matches = predicates::str::is_match(re)
            .unwrap_or_else(|e| panic!("bad regex {re:?}: {e}"))
            .eval(&self.stdout_text());
        self.check(matches, &format!("expected stdout to match /{re}/"))
    }

    /// stdout parsed as JSON.
    #[track_caller]
    pub fn stdout_json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.out.stdout)
            .unwrap_or_else(|e| self.fail(&format!("stdout is not JSON: {e}")))
    }
}

/// Run a command to its end and check it: `env.cmd().args(..).ran().success()`.
pub trait RunExt {
    fn ran(&mut self) -> Ran;
}

impl RunExt for assert_cmd::Command {
    fn ran(&mut self) -> Ran {
        let out = self
            .output()
            .unwrap_or_else(|e| panic!("run {self:?}: {e}"));
        Ran::new(described(&format!("{self:?}")), out)
    }
}

impl RunExt for std::process::Command {
    fn ran(&mut self) -> Ran {
        let what = std::iter::once(self.get_program())
            .chain(self.get_args())
            .map(|a| a.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" ");
        let out = self.output().unwrap_or_else(|e| panic!("run {what}: {e}"));
        Ran::new(what, out)
    }
}

/// A command's `Debug` text without the environment it lists first (`env -i K=V ...`).
fn described(debug: &str) -> String {
    match debug.find(" \"") {
        Some(at) if debug.contains("env -i") => debug[at + 1..].to_owned(),
        _ => debug.to_owned(),
    }
}

impl Env {
    /// Run saml-login with `args` in this world, to be checked: `env.call(&[..]).success()`.
    pub fn call(&self, args: &[&str]) -> Ran {
        let out = self.cmd().args(args).output().unwrap();
        Ran::new(format!("saml-login {}", args.join(" ")), out)
    }
}

/// A copy of a command's output already collected.
impl From<&Output> for Ran {
    fn from(out: &Output) -> Ran {
        Ran::from(out.clone())
    }
}

/// A command's output already collected (from `wait_with_output`, `output_within` ...).
impl From<Output> for Ran {
    fn from(out: Output) -> Ran {
        Ran::new("(a command run by the test)", out)
    }
}

/// The checks pass on what a command did and fail, naming status, stdout and stderr,
/// on what it did not: a check that could not fail would prove nothing.
#[cfg(unix)]
#[test]
fn the_expect_checks_pass_on_the_truth_and_fail_showing_the_output() {
    let ran = || {
        std::process::Command::new("sh")
            .args([
                "-c",
                "echo '{\"a\": 1}'; echo 'oops: 42 things' >&2; exit 3",
            ])
            .ran()
    };
    let out = ran()
        .failure()
        .code(3)
        .stdout_has("\"a\"")
        .stdout_lacks("oops")
        .stdout_matches(r"^\{.*\}\n$")
        .stdout_eq("{\"a\": 1}\n")
        .stderr_has("oops")
        .stderr_lacks("{")
        .stderr_starts("oops:")
        .stderr_eq("oops: 42 things\n")
        .stderr_matches(r"\d+ things")
        .context("a case");
    assert_eq!(out.stdout_json()["a"], 1);
    type Check = fn(Ran);
    let failing: [(&str, Check); 11] = [
        ("success", |r| drop(r.success())),
        ("code", |r| drop(r.code(0))),
        ("stderr_has", |r| drop(r.stderr_has("absent"))),
        ("stderr_lacks", |r| drop(r.stderr_lacks("oops"))),
        ("stderr_eq", |r| drop(r.stderr_eq("oops: 42 things"))),
        ("stdout_has", |r| drop(r.stdout_has("absent"))),
        ("stdout_lacks", |r| drop(r.stdout_lacks("a"))),
        ("stdout_empty", |r| drop(r.stdout_empty())),
        ("stdout_eq", |r| drop(r.stdout_eq("{\"a\": 1}"))),
        ("stderr_matches", |r| drop(r.stderr_matches(r"^\d"))),
        ("stdout_matches", |r| drop(r.stdout_matches("oops"))),
    ];
    for (name, check) in failing {
        let run = ran();
        let message =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(run))).expect_err(name);
        let message = message
            .downcast_ref::<String>()
            .cloned()
            .unwrap_or_default();
        for part in ["sh -c", "exit status: 3", "{\"a\": 1}", "oops: 42 things"] {
            assert!(message.contains(part), "{name}: {part:?} in {message}");
        }
    }
    let ok = std::process::Command::new("true").ran();
    let message = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| ok.failure()))
        .err()
        .and_then(|m| m.downcast_ref::<String>().cloned());
    assert!(message.is_some_and(|m| m.contains("expected a failure")));
    // A stdout that is not UTF-8 fails the text checks on it (as a strict read did).
    let binary = std::process::Command::new("printf").arg("\\377").ran();
    let message = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| binary.stdout_has("")))
        .err()
        .and_then(|m| m.downcast_ref::<String>().cloned());
    assert!(message.is_some_and(|m| m.contains("stdout is not UTF-8")));
}
