//! One list of the platforms whose webview lives in a GTK window (WebKitGTK): they set
//! `cfg(gtk)`, which the code uses instead of repeating the list. (Cargo.toml's
//! dependency table for `gtk` cannot use it and names the same targets.)

fn main() {
    println!("cargo::rustc-check-cfg=cfg(gtk)");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if matches!(
        os.as_str(),
        "linux" | "dragonfly" | "freebsd" | "openbsd" | "netbsd"
    ) {
        println!("cargo::rustc-cfg=gtk");
    }
    println!("cargo::rerun-if-changed=build.rs");
}
