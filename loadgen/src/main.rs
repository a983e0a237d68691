//! The chat load generator (issue 4, "Benchmark"). Two subcommands:
//!
//! - `loadgen prepare`: fills a fresh database (before the server starts) with load-test
//!   suppliers, two agents each, logged in, plus one supplier without agents for idle buyers;
//!   writes the agents' session cookies to a JSON file.
//! - `loadgen run`: against a server on 127.0.0.1 only, opens the agents (服务中), N idle buyer
//!   sockets (memory per idle socket from the server's RSS), then B active buyers that send M
//!   messages at a target rate, and prints stored/delivered messages per second and the
//!   delivery latency (send → the agent's socket receives it) p50/p99/max.
//!
//! Everything is bounded: the counts have caps and the whole run has a timeout.

mod prepare;
mod procfs;
mod run;
mod stats;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// The server's development default of `KEFU_BUYER_TOKEN_SECRET`.
const DEV_SECRET: &str = "dev-only-change-me";

#[derive(Parser, Debug)]
#[command(
    name = "loadgen",
    about = "832 客服 chat load generator (127.0.0.1 only)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Prepare a FRESH database for a load run (run it before starting the server).
    Prepare(PrepareArgs),
    /// Run the load against a server listening on 127.0.0.1.
    Run(RunArgs),
}

#[derive(clap::Args, Debug)]
pub struct PrepareArgs {
    /// The database the server will use (a fresh one).
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: String,
    /// Load-test suppliers, each with 2 agents (the most a supplier may have).
    #[arg(long, default_value_t = 50)]
    pub suppliers: usize,
    /// Where the agents' session cookies are written.
    #[arg(long, default_value = "target/load/agents.json")]
    pub out: PathBuf,
}

#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// The server (loopback only).
    #[arg(long, default_value = "127.0.0.1:3100")]
    pub addr: SocketAddr,
    /// The file `loadgen prepare` wrote.
    #[arg(long, default_value = "target/load/agents.json")]
    pub agents: PathBuf,
    /// The server's KEFU_BUYER_TOKEN_SECRET (buyer tokens are signed with it).
    #[arg(long, env = "KEFU_BUYER_TOKEN_SECRET", default_value = DEV_SECRET, hide_env_values = true)]
    pub buyer_token_secret: String,
    /// Idle buyer sockets opened for the memory measurement (kept open during the send phase).
    #[arg(long, default_value_t = 10_000)]
    pub idle: usize,
    /// Buyer sockets that send messages (each at most ~8 per second: the server allows 10).
    #[arg(long, default_value_t = 3_000)]
    pub buyers: usize,
    /// Messages sent in all.
    #[arg(long, default_value_t = 100_000)]
    pub messages: u64,
    /// Target messages per second over all buyers; without it every buyer sends as fast as
    /// the per-socket limit allows.
    #[arg(long)]
    pub rate: Option<u32>,
    /// The server's process id (for its RSS); found from the listening port when omitted.
    #[arg(long)]
    pub server_pid: Option<u32>,
    /// Sockets being opened at once.
    #[arg(long, default_value_t = 64)]
    pub connect_concurrency: usize,
    /// The whole run ends after this many seconds, finished or not.
    #[arg(long, default_value_t = 300)]
    pub timeout_secs: u64,
}

pub const MAX_SUPPLIERS: usize = 500;
pub const MAX_IDLE: usize = 20_000;
pub const MAX_BUYERS: usize = 10_000;
pub const MAX_MESSAGES: u64 = 2_000_000;
pub const MAX_TIMEOUT_SECS: u64 = 1_800;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Prepare(args) => prepare::prepare(args).await,
        Command::Run(args) => run::run(args).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("loadgen: {err}");
            ExitCode::FAILURE
        }
    }
}
