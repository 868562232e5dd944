//! The `pkce-login` binary: everything happens in the library's `pkce_cli::main_entry`.

fn main() {
    std::process::exit(saml_login::cli::pkce::main_entry());
}
