//! The `pkce-login` binary: everything happens in the library's `pkce_cli::main_entry`.

fn main() {
    std::process::exit(saml_login::pkce_cli::main_entry());
}
