//! `stochgrad`: print what [`stochgrad_cli::run`] returns, or its one-line error with exit code 2.
//!
//! A panic would be a bug; the hook still reports it as one line (`stochgrad: internal error: …`)
//! and the process exits with Rust's panic code 101.

use std::io::Write;
use std::process::ExitCode;
use stochgrad_cli::{one_line, run, EXIT_ERROR};

fn main() -> ExitCode {
    std::panic::set_hook(Box::new(|info| {
        let _ = writeln!(std::io::stderr(), "{}", one_line(&format!("stochgrad: internal error: {info}")));
    }));
    let mut args = Vec::new();
    for (i, a) in std::env::args_os().skip(1).enumerate() {
        match a.into_string() {
            Ok(s) => args.push(s),
            Err(_) => return fail(&format!("stochgrad: argument {} is not valid UTF-8", i + 1)),
        }
    }
    match run(&args, &mut std::io::stdin().lock()) {
        Ok(out) => {
            let mut stdout = std::io::stdout().lock();
            match stdout.write_all(out.as_bytes()).and_then(|()| stdout.flush()) {
                Ok(()) => ExitCode::SUCCESS,
                // The reader went away (`stochgrad estimators | head`): nothing left to report.
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
                Err(e) => fail(&format!("stochgrad: cannot write the output: {e}")),
            }
        }
        Err(e) => fail(&e.line()),
    }
}

fn fail(line: &str) -> ExitCode {
    let _ = writeln!(std::io::stderr(), "{}", one_line(line));
    ExitCode::from(EXIT_ERROR as u8)
}
