//! The `aws-console` binary: everything happens in `saml_login::cli::console`.

fn main() {
    std::process::exit(saml_login::cli::console::main_entry());
}
