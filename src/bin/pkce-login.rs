//! The `pkce-login` binary: everything happens in the library's `cli::pkce::main_entry`.

fn main() {
    std::process::exit(saml_login::cli::pkce::main_entry());
}
