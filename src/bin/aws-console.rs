//! The `aws-console` binary: everything happens in `saml_login::console_cli`.

fn main() {
    std::process::exit(saml_login::console_cli::main_entry());
}
