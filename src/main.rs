//! The `cloudcensus` command-line tool. See `cloudcensus --help` and the README.

use std::process::ExitCode;

fn main() -> ExitCode {
    cloudcensus::cli::main()
}
