//! `loadgen prepare`: suppliers and logged-in agents for a load run, made with the domain's own
//! functions (the same rules as the admin backend and the login page).

use serde::{Deserialize, Serialize};

use crate::{MAX_SUPPLIERS, PrepareArgs};
use domain::logins::{Auth, AuthConfig};
use domain::password::PasswordHasher;

/// What `prepare` hands to `run`.
#[derive(Serialize, Deserialize)]
pub struct LoadAccounts {
    /// A supplier with no agent: its buyers stay queued and idle (the memory measurement).
    pub idle_supplier_id: i64,
    pub suppliers: Vec<LoadSupplier>,
}

#[derive(Serialize, Deserialize)]
pub struct LoadSupplier {
    pub supplier_id: i64,
    /// Session cookies (`kefu_session`) of the supplier's agents.
    pub agent_sessions: Vec<String>,
}

pub async fn prepare(args: PrepareArgs) -> Result<(), String> {
    if args.suppliers == 0 || args.suppliers > MAX_SUPPLIERS {
        return Err(format!("--suppliers must be 1–{MAX_SUPPLIERS}"));
    }
    let db = domain::db::connect(&args.database_url)
        .await
        .map_err(|e| e.to_string())?;
    domain::db::migrate(&db).await.map_err(|e| e.to_string())?;
    use sea_orm::{EntityTrait, PaginatorTrait};
    let existing = domain::entity::supplier::Entity::find()
        .count(&db)
        .await
        .map_err(|e| e.to_string())?;
    if existing > 0 {
        return Err(format!(
            "the database already has {existing} suppliers: prepare a fresh one"
        ));
    }
    let hasher = PasswordHasher::new(2);
    let auth = Auth::new(db.clone(), hasher.clone(), AuthConfig::default());
    let err = |e: domain::DomainError| e.to_string();

    let (idle_supplier_id, _) = domain::accounts::create_supplier(
        &db,
        &hasher,
        "压测空闲供应商",
        "load_idle_admin",
        "管理员",
        None,
    )
    .await
    .map_err(err)?;
    let mut suppliers = Vec::with_capacity(args.suppliers);
    for s in 1..=args.suppliers {
        let (supplier_id, _) = domain::accounts::create_supplier(
            &db,
            &hasher,
            &format!("压测供应商{s}"),
            &format!("load_admin{s}"),
            "管理员",
            None,
        )
        .await
        .map_err(err)?;
        let mut agent_sessions = Vec::new();
        for k in 1..=domain::accounts::MAX_AGENTS_PER_SUPPLIER {
            let (agent, password) = domain::accounts::create_agent(
                &db,
                &hasher,
                supplier_id,
                &format!("压测客服{s}-{k}"),
                None,
            )
            .await
            .map_err(err)?;
            let (token, _) = auth
                .login(&agent.login, &password, "127.0.0.1", "loadgen")
                .await
                .map_err(err)?;
            agent_sessions.push(token);
        }
        suppliers.push(LoadSupplier {
            supplier_id,
            agent_sessions,
        });
    }
    let agents: usize = suppliers.iter().map(|s| s.agent_sessions.len()).sum();
    let accounts = LoadAccounts {
        idle_supplier_id,
        suppliers,
    };
    if let Some(parent) = args.out.parent() {
        std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
    }
    let json = serde_json::to_string_pretty(&accounts).map_err(|e| e.to_string())?;
    std::fs::write(&args.out, json).map_err(|e| format!("{}: {e}", args.out.display()))?;
    db.close().await.map_err(|e| e.to_string())?;
    println!(
        "prepared {} suppliers with {agents} logged-in agents (+1 idle supplier #{idle_supplier_id}); sessions in {}",
        accounts.suppliers.len(),
        args.out.display()
    );
    Ok(())
}
