//! The `saml-login` binary: everything happens in the library's `main_entry`.

fn main() {
    std::process::exit(saml_login::main_entry());
}
