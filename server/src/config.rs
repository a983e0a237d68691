//! Typed configuration: every setting has a command-line flag, an environment variable and a
//! default that works locally. `.env.example` lists them all.

use std::time::Duration;

use clap::{Args, Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(name = "server", about = "832 在线客服系统（供应商版）服务端与运维命令")]
pub struct Cli {
    #[command(flatten)]
    pub config: Config,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Serve the web app (the default).
    Serve,
    /// Run pending database migrations and exit.
    Migrate,
    /// Create a supplier with its admin account; prints the initial password once.
    CreateSupplier {
        /// Supplier name (供应商名称).
        #[arg(long)]
        name: String,
        /// Login of the supplier's admin account.
        #[arg(long)]
        admin_login: String,
        /// Display name of the admin account.
        #[arg(long, default_value = "客服管理员")]
        admin_name: String,
    },
    /// Load the demo supplier, accounts, buyers and orders (idempotent).
    SeedDemo,
    /// Sign a buyer token with KEFU_BUYER_TOKEN_SECRET, as the mall does (for testing the
    /// widget: open /chat?token=<printed token>).
    SignBuyerToken {
        #[arg(long)]
        supplier_id: i64,
        /// 客户编号.
        #[arg(long)]
        buyer_id: String,
        #[arg(long)]
        name: String,
        /// Budget unit (单位).
        #[arg(long)]
        unit: String,
        /// Seconds until the token expires.
        #[arg(long, default_value_t = 7200)]
        ttl_secs: i64,
    },
    /// End an account's live login (the operator's 剔除登录).
    KickLogin {
        #[arg(long)]
        login: String,
    },
}

#[derive(Args, Debug, Clone)]
pub struct Config {
    /// Database: a SQLite file (default) or a PostgreSQL URL.
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://data/kefu.db?mode=rwc", global = true)]
    pub database_url: String,
    /// Seed the demo data when serving. Never enable in production.
    #[arg(long, env = "KEFU_DEMO_DATA", default_value_t = false, global = true)]
    pub demo_data: bool,
    /// A login with no heartbeat from its browser for this many seconds is released.
    #[arg(long, env = "KEFU_LOGIN_IDLE_TIMEOUT_SECS", default_value_t = 600, global = true)]
    pub login_idle_timeout_secs: u64,
    /// Failed logins allowed per account within the failure window.
    #[arg(long, env = "KEFU_MAX_FAILURES_PER_ACCOUNT", default_value_t = 5, global = true)]
    pub max_failures_per_account: u32,
    /// Failed logins allowed per client address within the failure window.
    #[arg(long, env = "KEFU_MAX_FAILURES_PER_ADDR", default_value_t = 20, global = true)]
    pub max_failures_per_addr: u32,
    /// Length of the failed-login window, in seconds.
    #[arg(long, env = "KEFU_FAILURE_WINDOW_SECS", default_value_t = 900, global = true)]
    pub failure_window_secs: u64,
    /// Password hashes computed at once (each takes about 19 MiB).
    #[arg(long, env = "KEFU_HASH_CONCURRENCY", default_value_t = 4, global = true)]
    pub hash_concurrency: usize,
    /// Mark the session cookie Secure (when served over HTTPS).
    #[arg(long, env = "KEFU_SECURE_COOKIE", default_value_t = false, global = true)]
    pub secure_cookie: bool,
    /// Take the client address from X-Forwarded-For (only behind a trusted reverse proxy).
    #[arg(long, env = "KEFU_TRUST_FORWARDED_FOR", default_value_t = false, global = true)]
    pub trust_forwarded_for: bool,
    /// Largest request body accepted, in bytes.
    #[arg(long, env = "KEFU_MAX_BODY_BYTES", default_value_t = 64 * 1024, global = true)]
    pub max_body_bytes: usize,
    /// HMAC-SHA256 secret shared with the mall, which signs the buyer token. The default is
    /// for local development only (a warning is logged when serving with it).
    #[arg(long, env = "KEFU_BUYER_TOKEN_SECRET", default_value = DEV_BUYER_TOKEN_SECRET, global = true, hide_env_values = true)]
    pub buyer_token_secret: String,
    /// Folder where chat pictures are stored (created when missing).
    #[arg(long, env = "KEFU_UPLOAD_DIR", default_value = "data/uploads", global = true)]
    pub upload_dir: std::path::PathBuf,
    /// A chat conversation with no message for this many seconds ends (超时结束).
    #[arg(long, env = "KEFU_CONVERSATION_IDLE_TIMEOUT_SECS", default_value_t = 1800, global = true)]
    pub conversation_idle_timeout_secs: u64,
}

/// The development default of `KEFU_BUYER_TOKEN_SECRET`; never use it in production.
pub const DEV_BUYER_TOKEN_SECRET: &str = "dev-only-change-me";

impl Config {
    pub fn auth_config(&self) -> domain::auth::AuthConfig {
        domain::auth::AuthConfig {
            login_idle_timeout: Duration::from_secs(self.login_idle_timeout_secs),
            max_failures_per_account: self.max_failures_per_account,
            max_failures_per_addr: self.max_failures_per_addr,
            failure_window: Duration::from_secs(self.failure_window_secs),
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::Cli;

    /// Every setting the server reads from the environment is documented in `.env.example`,
    /// and `.env.example` documents nothing the server does not read.
    #[test]
    fn env_example_lists_every_setting() {
        let documented: std::collections::BTreeSet<String> =
            include_str!("../../.env.example")
                .lines()
                .filter(|l| !l.trim_start().starts_with('#'))
                .filter_map(|l| l.split_once('=').map(|(k, _)| k.trim().to_owned()))
                .filter(|k| !k.is_empty())
                .collect();
        let read: std::collections::BTreeSet<String> = Cli::command()
            .get_arguments()
            .filter_map(|a| a.get_env().map(|e| e.to_string_lossy().into_owned()))
            .collect();
        let missing: Vec<_> = read.difference(&documented).collect();
        assert!(missing.is_empty(), "not in .env.example: {missing:?}");
        // Leptos and tracing read these themselves.
        let extra: Vec<_> = documented
            .difference(&read)
            .filter(|k| !matches!(k.as_str(), "LEPTOS_SITE_ADDR" | "RUST_LOG"))
            .collect();
        assert!(extra.is_empty(), "documented but never read: {extra:?}");
    }

    #[test]
    fn defaults_work_locally() {
        let cmd = Cli::command();
        let default_of = |id: &str| {
            let arg = cmd.get_arguments().find(|a| a.get_id() == id).expect("argument exists");
            arg.get_default_values()[0].to_string_lossy().into_owned()
        };
        assert_eq!(default_of("database_url"), "sqlite://data/kefu.db?mode=rwc");
        assert_eq!(default_of("demo_data"), "false", "demo data must be opt-in");
        assert_eq!(default_of("login_idle_timeout_secs"), "600");
        assert_eq!(default_of("conversation_idle_timeout_secs"), "1800");
        assert_eq!(default_of("upload_dir"), crate::chat::DEFAULT_UPLOAD_DIR);
    }
}
