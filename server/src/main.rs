//! The axum host: serves the Leptos app and its server functions, and carries the operator's
//! command-line tools (migrations, suppliers, demo data, kicking a login).

#![recursion_limit = "256"]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use app::state::{AppState, ChatConfig, WebConfig};
use axum::{Router, middleware};
use clap::Parser;
use domain::{logins::Auth, password::PasswordHasher};
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list};
use tower_http::{
    limit::RequestBodyLimitLayer, set_header::SetResponseHeaderLayer,
    timeout::RequestBodyTimeoutLayer,
};

use server::config::{Cli, Command, Config, ServeSettings};
use server::{assets, chat, export, guard, orders_api, security, ws};

#[tokio::main]
async fn main() {
    let _ = dotenvy::dotenv();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn,sea_orm=warn".into()),
        )
        .init();
    let cli = Cli::parse();
    if let Err(err) = run(cli).await {
        eprintln!("错误：{err}");
        std::process::exit(1);
    }
}

async fn run(cli: Cli) -> Result<(), String> {
    let config = cli.config;
    let db = domain::db::connect(&config.database_url)
        .await
        .map_err(|e| e.to_string())?;
    domain::db::migrate(&db).await.map_err(|e| e.to_string())?;
    let hasher = PasswordHasher::with_queue(config.hash_concurrency.max(1), config.hash_queue);
    let auth = Auth::new(db.clone(), hasher.clone(), config.auth_config());

    match cli.command.unwrap_or(Command::Serve) {
        Command::Migrate => {
            println!("数据库迁移完成");
            Ok(())
        }
        Command::CreateSupplier {
            name,
            admin_login,
            admin_name,
        } => {
            let (id, password) = domain::accounts::create_supplier(
                &db,
                &hasher,
                &name,
                &admin_login,
                &admin_name,
                None,
            )
            .await
            .map_err(|e| e.user_message())?;
            println!("已创建供应商 #{id}「{name}」");
            println!("管理员账号：{admin_login}");
            println!("初始密码：{password}（只显示这一次，请立即转交并提醒修改）");
            Ok(())
        }
        Command::SeedDemo => {
            domain::demo::seed(&db, &hasher)
                .await
                .map_err(|e| e.to_string())?;
            println!("演示数据已就绪");
            Ok(())
        }
        Command::SignBuyerToken {
            supplier_id,
            buyer_id,
            name,
            unit,
            ttl_secs,
        } => {
            let token = sign_buyer_token(&config, supplier_id, buyer_id, name, unit, ttl_secs)?;
            println!("{token}");
            Ok(())
        }
        Command::KickLogin { login } => {
            let released = auth
                .kick_login_by_login(&login)
                .await
                .map_err(|e| e.user_message())?;
            if released {
                println!("已剔除账号 {login} 的登录");
            } else {
                println!("账号 {login} 当前没有登录");
            }
            Ok(())
        }
        Command::Serve => {
            if config.demo_data {
                domain::demo::seed(&db, &hasher)
                    .await
                    .map_err(|e| e.to_string())?;
                tracing::warn!("demo data enabled (KEFU_DEMO_DATA): never use this in production");
            }
            serve(config, auth).await
        }
    }
}

/// A buyer token for the mall to hand to its widget, checked the way the server will check it,
/// so a bad field fails here, not in the widget.
fn sign_buyer_token(
    config: &Config,
    supplier_id: i64,
    buyer_id: String,
    name: String,
    unit: String,
    ttl_secs: i64,
) -> Result<String, String> {
    let claims = domain::chat::BuyerClaims {
        v: domain::chat::buyer_token::TOKEN_VERSION,
        supplier_id,
        buyer_id,
        name,
        unit,
        exp: domain::db::now_ms() / 1000 + ttl_secs,
    };
    let token = domain::chat::sign(config.buyer_token_secret_or_dev().as_bytes(), &claims);
    domain::chat::buyer_token::verify_within(
        config.buyer_token_secret_or_dev().as_bytes(),
        &token,
        domain::db::now_ms() / 1000,
        config.buyer_token_max_lifetime_secs,
    )
    .map_err(|e| e.user_message())?;
    Ok(token)
}

/// Starts the web server: the chat, the sweepers, the routes and the accept loop, until Ctrl-C.
async fn serve(config: Config, auth: Auth) -> Result<(), String> {
    let conf = get_configuration(None).map_err(|e| e.to_string())?;
    let leptos_options = conf.leptos_options;
    let addr = leptos_options.site_addr;
    // A production start without the settings that make it safe is refused here, naming them.
    let settings = config.serve_settings(addr).map_err(|e| e.to_string())?;
    if config.dev_mode {
        tracing::warn!(
            "KEFU_DEV_MODE is on: development defaults allowed; never use this in production"
        );
    }
    let buyer_token_secret: Arc<[u8]> = settings.buyer_token_secret.as_bytes().into();
    let chat_state = chat_state(&config, &auth, buyer_token_secret.clone());
    // Pictures uploaded but never sent are deleted after a day.
    chat::spawn_upload_sweeper(chat_state.clone());
    let state = AppState {
        leptos_options,
        auth: auth.clone(),
        bus: chat_state.bus.clone(),
        web: WebConfig {
            secure_cookie: settings.secure_cookie,
            trust_forwarded_for: config.trust_forwarded_for,
            demo_data: config.demo_data,
        },
        chat: ChatConfig {
            buyer_token_secret,
            buyer_token_max_lifetime_secs: config.buyer_token_max_lifetime_secs.max(60),
        },
    };
    chat::spawn_idle_sweeper(
        chat_state.notifier.clone(),
        Duration::from_secs(config.conversation_idle_timeout_secs.max(1)),
        Duration::from_secs(60),
    );
    spawn_login_sweeper(auth.clone());

    let security = Arc::new(security(&config, &settings, addr));
    let read_timeout = Duration::from_secs(config.request_read_timeout_secs.max(1));
    let app = router(state, chat_state, auth, &config, security, read_timeout);

    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .map_err(|e| format!("无法监听 {addr}：{e}"))?;
    tracing::info!(
        "listening on http://{addr} (public URL {})",
        settings.public_origin
    );
    server::listen::serve(listener, app, read_timeout, shutdown_signal()).await;
    Ok(())
}

/// The chat's state over an in-process bus, with the configured uploads folder and limits.
fn chat_state(config: &Config, auth: &Auth, buyer_token_secret: Arc<[u8]>) -> chat::ChatState {
    // The chat wraps the bus: a login that ends gives the agent's buyers back to routing.
    chat::ChatState::new(
        auth.clone(),
        Arc::new(domain::bus::InProcessBus::default()),
        buyer_token_secret,
    )
    .with_upload_dir(&config.upload_dir)
    // The per-address socket cap counts the same address the login limits do.
    .with_trust_forwarded_for(config.trust_forwarded_for)
    .with_limits(chat::limits::ChatLimits {
        buyer_token_max_lifetime_secs: config.buyer_token_max_lifetime_secs.max(60),
        sockets_per_addr: config.chat_sockets_per_addr.max(1),
        ..Default::default()
    })
}

/// Logins whose browser went silent are released even if nobody tries to log in again.
fn spawn_login_sweeper(auth: Auth) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(30));
        loop {
            tick.tick().await;
            if let Err(err) = auth.release_idle_logins().await {
                tracing::warn!(error = %err, "releasing idle logins failed");
            }
        }
    });
}

/// The origin, HTTPS and load rules of every request.
fn security(config: &Config, settings: &ServeSettings, addr: SocketAddr) -> security::Security {
    let mut own_origins = vec![settings.public_origin.clone()];
    if config.dev_mode {
        // The listening address and localhost with its port, as a developer opens it.
        own_origins.push(format!("http://{addr}"));
        own_origins.push(format!("http://localhost:{}", addr.port()));
    }
    security::Security::new(
        own_origins,
        settings.mall_origins.clone(),
        settings.https,
        config.dev_mode,
        config.max_concurrent_requests,
    )
}

/// Every route: the account channel, the export, the Leptos pages and server fns behind the page
/// guard and the body limit, the chat and the orders API with their own caps, and the layers
/// every response goes through.
fn router(
    mut state: AppState,
    chat_state: chat::ChatState,
    auth: Auth,
    config: &Config,
    security: Arc<security::Security>,
    read_timeout: Duration,
) -> Router {
    // The site's files as built: the pages name the hashed files when the build has them.
    let assets = assets::SiteAssets::detect(
        &state.leptos_options,
        &assets::SiteAssets::hash_file_beside_exe(&state.leptos_options),
    );
    assets.apply_to(&mut state.leptos_options);
    tracing::info!(
        site_root = %assets.root().display(),
        hashed_names = assets.hashes().is_some(),
        "serving the site's files"
    );
    let routes = generate_route_list(app::App);
    let leptos_options = state.leptos_options.clone();
    Router::new()
        .route(
            app::realtime::ACCOUNT_CHANNEL_PATH,
            axum::routing::get(ws::account_channel),
        )
        .route(
            "/admin/sessions/export",
            axum::routing::get(export::export_sessions),
        )
        .leptos_routes(&state, routes, move || app::shell(leptos_options.clone()))
        .fallback(assets::file_and_error_handler::<AppState, _>(
            Arc::new(assets),
            app::shell,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            guard::page_guard,
        ))
        .layer(RequestBodyLimitLayer::new(config.max_body_bytes))
        // After the body limit: the picture upload, the order API and the .xlsx import read up
        // to their own caps, after their own auth checks.
        .merge(chat::routes(chat_state))
        .merge(orders_api::routes(orders_api::OrdersState::new(auth)))
        // A client that trickles its body is cut off (the header timeout is in the accept loop).
        .layer(RequestBodyTimeoutLayer::new(read_timeout))
        .layer(middleware::from_fn_with_state(security, security::layer))
        .layer(SetResponseHeaderLayer::if_not_present(
            axum::http::header::X_CONTENT_TYPE_OPTIONS,
            axum::http::HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            axum::http::header::REFERRER_POLICY,
            axum::http::HeaderValue::from_static("same-origin"),
        ))
        .with_state(state)
}

async fn shutdown_signal() {
    let _ = tokio::signal::ctrl_c().await;
}
