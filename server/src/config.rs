//! Typed configuration: every setting has a command-line flag, an environment variable and a
//! default that works locally. `.env.example` lists them all.

use std::time::Duration;

use clap::{Args, Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "server",
    about = "832 在线客服系统（供应商版）服务端与运维命令"
)]
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
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://data/kefu.db?mode=rwc",
        global = true
    )]
    pub database_url: String,
    /// Seed the demo data when serving. Never enable in production.
    #[arg(long, env = "KEFU_DEMO_DATA", default_value_t = false, global = true)]
    pub demo_data: bool,
    /// A login with no heartbeat from its browser for this many seconds is released.
    #[arg(
        long,
        env = "KEFU_LOGIN_IDLE_TIMEOUT_SECS",
        default_value_t = 600,
        global = true
    )]
    pub login_idle_timeout_secs: u64,
    /// Failed logins allowed per account within the failure window.
    #[arg(
        long,
        env = "KEFU_MAX_FAILURES_PER_ACCOUNT",
        default_value_t = 5,
        global = true
    )]
    pub max_failures_per_account: u32,
    /// Failed logins allowed per client address within the failure window.
    #[arg(
        long,
        env = "KEFU_MAX_FAILURES_PER_ADDR",
        default_value_t = 20,
        global = true
    )]
    pub max_failures_per_addr: u32,
    /// Length of the failed-login window, in seconds.
    #[arg(
        long,
        env = "KEFU_FAILURE_WINDOW_SECS",
        default_value_t = 900,
        global = true
    )]
    pub failure_window_secs: u64,
    /// Password hashes computed at once (each takes about 19 MiB).
    #[arg(
        long,
        env = "KEFU_HASH_CONCURRENCY",
        default_value_t = 4,
        global = true
    )]
    pub hash_concurrency: usize,
    /// Logins that may wait for a hashing slot; beyond that 登录人数较多，请稍后再试 at once.
    #[arg(long, env = "KEFU_HASH_QUEUE", default_value_t = 32, global = true)]
    pub hash_queue: usize,
    /// A login ends this many seconds after it began, however active (besides the idle timeout).
    #[arg(long, env = "KEFU_LOGIN_MAX_AGE_SECS", default_value_t = 12 * 60 * 60, global = true)]
    pub login_max_age_secs: u64,
    /// Development mode: allows the development defaults that are unsafe in production (the
    /// built-in buyer-token secret, a public URL taken from the listening address). `run.sh`,
    /// the browser tests and the load benchmark set it; a production start must not.
    #[arg(long, env = "KEFU_DEV_MODE", default_value_t = false, global = true)]
    pub dev_mode: bool,
    /// The address users open, e.g. https://kefu.example.com (scheme, host and port; no path).
    /// Requests that change something must come from this origin. Required in production; in
    /// development mode it defaults to http://<LEPTOS_SITE_ADDR>.
    #[arg(long, env = "KEFU_PUBLIC_URL", global = true)]
    pub public_url: Option<String>,
    /// Origins of the mall pages that embed the buyer chat, comma-separated, e.g.
    /// https://www.832.gov.cn,https://mall.example.com. Only they may frame /chat and open the
    /// buyer's WebSocket (besides this app's own origin).
    #[arg(long, env = "KEFU_MALL_ORIGINS", default_value = "", global = true)]
    pub mall_origins: String,
    /// Mark the session cookie Secure. Defaults to true when KEFU_PUBLIC_URL is https.
    #[arg(long, env = "KEFU_SECURE_COOKIE", global = true)]
    pub secure_cookie: Option<bool>,
    /// Take the client address from X-Forwarded-For (only behind a trusted reverse proxy).
    #[arg(
        long,
        env = "KEFU_TRUST_FORWARDED_FOR",
        default_value_t = false,
        global = true
    )]
    pub trust_forwarded_for: bool,
    /// Largest request body accepted, in bytes.
    #[arg(long, env = "KEFU_MAX_BODY_BYTES", default_value_t = 64 * 1024, global = true)]
    pub max_body_bytes: usize,
    /// HMAC-SHA256 secret shared with the mall, which signs the buyer token: at least
    /// [`MIN_SECRET_BYTES`] bytes. Required in production; development mode falls back to a
    /// built-in value that anyone can read.
    #[arg(
        long,
        env = "KEFU_BUYER_TOKEN_SECRET",
        global = true,
        hide_env_values = true
    )]
    pub buyer_token_secret: Option<String>,
    /// A buyer token must expire within this many seconds of its use; one valid for longer is
    /// refused (a token that never expires is a password in a URL).
    #[arg(long, env = "KEFU_BUYER_TOKEN_MAX_LIFETIME_SECS", default_value_t = 24 * 60 * 60, global = true)]
    pub buyer_token_max_lifetime_secs: i64,
    /// Folder where chat pictures are stored (created when missing).
    #[arg(
        long,
        env = "KEFU_UPLOAD_DIR",
        default_value = "data/uploads",
        global = true
    )]
    pub upload_dir: std::path::PathBuf,
    /// Chat sockets (buyer and agent) open at once from one client address. Generous, since a
    /// county office puts many buyers behind one address; the load benchmark raises it.
    #[arg(
        long,
        env = "KEFU_CHAT_SOCKETS_PER_ADDR",
        default_value_t = 200,
        global = true
    )]
    pub chat_sockets_per_addr: usize,
    /// Requests handled at once; beyond that the server answers 503 at once instead of queueing.
    #[arg(
        long,
        env = "KEFU_MAX_CONCURRENT_REQUESTS",
        default_value_t = 1024,
        global = true
    )]
    pub max_concurrent_requests: usize,
    /// Seconds a client has to send a request's headers, and the longest pause inside its body.
    #[arg(
        long,
        env = "KEFU_REQUEST_READ_TIMEOUT_SECS",
        default_value_t = 30,
        global = true
    )]
    pub request_read_timeout_secs: u64,
    /// A chat conversation with no message for this many seconds ends (超时结束).
    #[arg(
        long,
        env = "KEFU_CONVERSATION_IDLE_TIMEOUT_SECS",
        default_value_t = 1800,
        global = true
    )]
    pub conversation_idle_timeout_secs: u64,
}

/// The development default of `KEFU_BUYER_TOKEN_SECRET`; never use it in production.
pub const DEV_BUYER_TOKEN_SECRET: &str = "dev-only-change-me";
/// Shortest buyer-token secret accepted in production (HMAC-SHA256 wants 32 bytes of key).
pub const MIN_SECRET_BYTES: usize = 32;

/// Settings checked for a serving process: what production refuses, and what it derives.
#[derive(Clone, Debug)]
pub struct ServeSettings {
    pub buyer_token_secret: String,
    /// `scheme://host[:port]`, no trailing slash.
    pub public_origin: String,
    pub mall_origins: Vec<String>,
    pub secure_cookie: bool,
    pub https: bool,
}

/// A setting that makes a production start unsafe; the message names the setting to fix.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UnsafeSetting(pub String);

/// `scheme://host[:port]` of a URL or origin, lower-cased, default ports dropped; `None` when
/// it is not an absolute http(s) URL without credentials.
pub fn origin_of(url: &str) -> Option<String> {
    let url = url.trim();
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.is_empty() || authority.contains('@') || authority.chars().any(char::is_whitespace)
    {
        return None;
    }
    let authority = authority.to_ascii_lowercase();
    let authority = match (scheme.as_str(), authority.rsplit_once(':')) {
        ("http", Some((host, "80"))) | ("https", Some((host, "443"))) => host.to_owned(),
        _ => authority,
    };
    Some(format!("{scheme}://{authority}"))
}

impl Config {
    /// What a `serve` needs, or why it must not start. `site_addr` is where it listens (the
    /// public URL in development mode when none is set).
    pub fn serve_settings(
        &self,
        site_addr: std::net::SocketAddr,
    ) -> Result<ServeSettings, UnsafeSetting> {
        let secret = match (
            self.buyer_token_secret.as_deref().filter(|s| !s.is_empty()),
            self.dev_mode,
        ) {
            (Some(s), _) if s == DEV_BUYER_TOKEN_SECRET && !self.dev_mode => {
                return Err(UnsafeSetting(format!(
                    "KEFU_BUYER_TOKEN_SECRET 是开发用的默认值，任何人都能伪造采购人身份：请设置与商城约定的随机密钥（至少 {MIN_SECRET_BYTES} 字节），或仅在开发时设置 KEFU_DEV_MODE=true"
                )));
            }
            (Some(s), false) if s.len() < MIN_SECRET_BYTES => {
                return Err(UnsafeSetting(format!(
                    "KEFU_BUYER_TOKEN_SECRET 太短（{} 字节）：至少需要 {MIN_SECRET_BYTES} 字节的随机值",
                    s.len()
                )));
            }
            (Some(s), _) => s.to_owned(),
            (None, true) => DEV_BUYER_TOKEN_SECRET.to_owned(),
            (None, false) => {
                return Err(UnsafeSetting(format!(
                    "缺少 KEFU_BUYER_TOKEN_SECRET：请设置与商城约定的随机密钥（至少 {MIN_SECRET_BYTES} 字节），或仅在开发时设置 KEFU_DEV_MODE=true"
                )));
            }
        };
        let public_origin = match (&self.public_url, self.dev_mode) {
            (Some(url), _) => origin_of(url).ok_or_else(|| {
                UnsafeSetting(format!(
                    "KEFU_PUBLIC_URL「{url}」不是有效的网址：应形如 https://kefu.example.com"
                ))
            })?,
            (None, true) => format!("http://{site_addr}"),
            (None, false) => {
                return Err(UnsafeSetting(
                    "缺少 KEFU_PUBLIC_URL：请设置用户访问本系统的地址（如 https://kefu.example.com），跨站请求按它拒绝；或仅在开发时设置 KEFU_DEV_MODE=true".into(),
                ));
            }
        };
        let mut mall_origins = Vec::new();
        for item in self
            .mall_origins
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            let origin = origin_of(item).ok_or_else(|| {
                UnsafeSetting(format!(
                    "KEFU_MALL_ORIGINS 中的「{item}」不是有效的来源：应形如 https://mall.example.com"
                ))
            })?;
            mall_origins.push(origin);
        }
        let https = public_origin.starts_with("https://");
        Ok(ServeSettings {
            buyer_token_secret: secret,
            public_origin,
            mall_origins,
            secure_cookie: self.secure_cookie.unwrap_or(https),
            https,
        })
    }

    /// The buyer-token secret for the operator's commands (signing a test token).
    pub fn buyer_token_secret_or_dev(&self) -> &str {
        self.buyer_token_secret
            .as_deref()
            .filter(|s| !s.is_empty())
            .unwrap_or(DEV_BUYER_TOKEN_SECRET)
    }

    pub fn auth_config(&self) -> domain::logins::AuthConfig {
        domain::logins::AuthConfig {
            login_idle_timeout: Duration::from_secs(self.login_idle_timeout_secs),
            max_failures_per_account: self.max_failures_per_account,
            max_failures_per_addr: self.max_failures_per_addr,
            failure_window: Duration::from_secs(self.failure_window_secs),
            login_max_age: Duration::from_secs(self.login_max_age_secs.max(60)),
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
        let documented: std::collections::BTreeSet<String> = include_str!("../../.env.example")
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
            let arg = cmd
                .get_arguments()
                .find(|a| a.get_id() == id)
                .expect("argument exists");
            arg.get_default_values()[0].to_string_lossy().into_owned()
        };
        assert_eq!(default_of("database_url"), "sqlite://data/kefu.db?mode=rwc");
        assert_eq!(default_of("demo_data"), "false", "demo data must be opt-in");
        assert_eq!(default_of("login_idle_timeout_secs"), "600");
        assert_eq!(default_of("conversation_idle_timeout_secs"), "1800");
        assert_eq!(default_of("upload_dir"), crate::chat::DEFAULT_UPLOAD_DIR);
    }
}
