//! The Windows calls saml-login needs (Job Objects, process liveness, the session id,
//! the WebView2 runtime's registry entry), through `windows-sys`: the only module of the
//! crate that may use `unsafe`, each block with its reason. Portable callers go through
//! [`crate::job`] and [`crate::webview::display_available`].

use std::ffi::c_void;
use std::io;

use windows_sys::Win32::Foundation::{CloseHandle, HANDLE, STILL_ACTIVE};
use windows_sys::Win32::System::JobObjects::{
    AssignProcessToJobObject, CreateJobObjectW, JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE,
    JOBOBJECT_BASIC_ACCOUNTING_INFORMATION, JOBOBJECT_EXTENDED_LIMIT_INFORMATION,
    JobObjectBasicAccountingInformation, JobObjectExtendedLimitInformation,
    QueryInformationJobObject, SetInformationJobObject, TerminateJobObject,
};
use windows_sys::Win32::System::Registry::{
    HKEY, HKEY_CURRENT_USER, HKEY_LOCAL_MACHINE, RRF_RT_REG_SZ, RegGetValueW,
};
use windows_sys::Win32::System::RemoteDesktop::ProcessIdToSessionId;
use windows_sys::Win32::System::Threading::{
    GetExitCodeProcess, OpenProcess, PROCESS_QUERY_LIMITED_INFORMATION, PROCESS_SET_QUOTA,
    PROCESS_TERMINATE,
};

/// A handle this module owns, closed when dropped. Kept as an integer so the owner can
/// be `Send` (a handle is a process-wide value, usable from any thread).
#[derive(Debug)]
pub(crate) struct Owned(isize);

impl Owned {
    fn new(handle: HANDLE) -> io::Result<Self> {
        if handle.is_null() {
            Err(io::Error::last_os_error())
        } else {
            Ok(Self(handle as isize))
        }
    }

    fn raw(&self) -> HANDLE {
        self.0 as HANDLE
    }
}

impl Drop for Owned {
    fn drop(&mut self) {
        // SAFETY: the handle came from a successful Create/Open call, is owned by this
        // value alone and is closed once, here.
        unsafe {
            CloseHandle(self.raw());
        }
    }
}

fn check(ok: i32) -> io::Result<()> {
    if ok == 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// A new anonymous Job Object whose processes are all killed when its last handle is
/// closed (also when this process ends, however it ends).
pub(crate) fn create_kill_on_close_job() -> io::Result<Owned> {
    // SAFETY: no security attributes and no name (both may be null).
    let job = Owned::new(unsafe { CreateJobObjectW(std::ptr::null(), std::ptr::null()) })?;
    let mut info = JOBOBJECT_EXTENDED_LIMIT_INFORMATION::default();
    info.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
    // SAFETY: `info` is a live, initialised JOBOBJECT_EXTENDED_LIMIT_INFORMATION and the
    // size passed is its size.
    check(unsafe {
        SetInformationJobObject(
            job.raw(),
            JobObjectExtendedLimitInformation,
            (&raw const info).cast::<c_void>(),
            size_of::<JOBOBJECT_EXTENDED_LIMIT_INFORMATION>() as u32,
        )
    })?;
    Ok(job)
}

/// Puts process `pid` (and so every process it starts from now on) into `job`.
pub(crate) fn assign(job: &Owned, pid: u32) -> io::Result<()> {
    // SAFETY: plain call; the returned handle is checked and owned.
    let process =
        Owned::new(unsafe { OpenProcess(PROCESS_SET_QUOTA | PROCESS_TERMINATE, 0, pid) })?;
    // SAFETY: both handles are open and owned by live values.
    check(unsafe { AssignProcessToJobObject(job.raw(), process.raw()) })
}

/// Kills every process of `job`.
pub(crate) fn terminate(job: &Owned) -> io::Result<()> {
    // SAFETY: the job handle is open.
    check(unsafe { TerminateJobObject(job.raw(), 1) })
}

/// How many processes of `job` are still running.
pub(crate) fn active_processes(job: &Owned) -> io::Result<u32> {
    let mut info = JOBOBJECT_BASIC_ACCOUNTING_INFORMATION::default();
    // SAFETY: `info` is writable and the size passed is its size; no return length.
    check(unsafe {
        QueryInformationJobObject(
            job.raw(),
            JobObjectBasicAccountingInformation,
            (&raw mut info).cast::<c_void>(),
            size_of::<JOBOBJECT_BASIC_ACCOUNTING_INFORMATION>() as u32,
            std::ptr::null_mut(),
        )
    })?;
    Ok(info.ActiveProcesses)
}

/// Whether process `pid` is still running (a process that cannot be opened because it
/// belongs to someone else counts as running: nothing of its is touched).
pub(crate) fn process_running(pid: u32) -> bool {
    // SAFETY: plain call; the returned handle is checked and owned.
    let process =
        match Owned::new(unsafe { OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, 0, pid) }) {
            Ok(process) => process,
            // ERROR_INVALID_PARAMETER: no process has that id.
            Err(e) => return e.raw_os_error() != Some(87),
        };
    let mut code = 0u32;
    // SAFETY: the handle is open and `code` is writable.
    let ok = unsafe { GetExitCodeProcess(process.raw(), &raw mut code) };
    ok == 0 || code == STILL_ACTIVE as u32
}

/// The Remote Desktop session of this process (0: the services' session, which has no
/// desktop a window could appear on).
pub(crate) fn session_id() -> Option<u32> {
    let mut session = 0u32;
    // SAFETY: `session` is writable.
    let ok = unsafe { ProcessIdToSessionId(std::process::id(), &raw mut session) };
    (ok != 0).then_some(session)
}

/// Whether the WebView2 runtime is installed, the way Microsoft documents it: a
/// non-empty `pv` value under the runtime's EdgeUpdate client key, per machine (32- or
/// 64-bit view) or per user.
pub(crate) fn webview2_installed() -> bool {
    const CLIENT: &str = r"Microsoft\EdgeUpdate\Clients\{F3017226-FE2A-4295-8BDF-00C3A9A7E4C5}";
    [
        (
            HKEY_LOCAL_MACHINE,
            format!(r"SOFTWARE\WOW6432Node\{CLIENT}"),
        ),
        (HKEY_LOCAL_MACHINE, format!(r"SOFTWARE\{CLIENT}")),
        (HKEY_CURRENT_USER, format!(r"Software\{CLIENT}")),
    ]
    .iter()
    .any(|(root, key)| {
        registry_string(*root, key, "pv").is_some_and(|v| !v.is_empty() && v != "0.0.0.0")
    })
}

fn registry_string(root: HKEY, key: &str, value: &str) -> Option<String> {
    let wide = |s: &str| s.encode_utf16().chain([0]).collect::<Vec<u16>>();
    let (key, value) = (wide(key), wide(value));
    let mut buf = [0u16; 64];
    let mut len = size_of_val(&buf) as u32;
    // SAFETY: key and value are NUL-terminated UTF-16; `buf` is writable for `len`
    // bytes and RegGetValueW writes at most that many.
    let status = unsafe {
        RegGetValueW(
            root,
            key.as_ptr(),
            value.as_ptr(),
            RRF_RT_REG_SZ,
            std::ptr::null_mut(),
            buf.as_mut_ptr().cast::<c_void>(),
            &raw mut len,
        )
    };
    if status != 0 {
        return None;
    }
    let chars = (len as usize / 2).min(buf.len());
    Some(
        String::from_utf16_lossy(&buf[..chars])
            .trim_end_matches('\0')
            .to_owned(),
    )
}
