//! The operator CLI, run as the real binary.

use std::process::Command;

/// `server sign-buyer-token` for buyer CG1001 of supplier 1, with the database at `db`.
fn sign_buyer_token(db: &str, name: &str, unit: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_server"));
    command
        .args([
            "sign-buyer-token",
            "--supplier-id",
            "1",
            "--buyer-id",
            "CG1001",
            "--name",
            name,
            "--unit",
            unit,
        ])
        .env("DATABASE_URL", db);
    command
}

/// `server sign-buyer-token` prints a token the server accepts for exactly that buyer, and one
/// signed with another secret is refused.
#[test]
fn sign_buyer_token_prints_a_token_the_server_accepts() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = format!("sqlite://{}/cli.db?mode=rwc", dir.path().display());
    let output = sign_buyer_token(&db, "王采购", "某县第一中学")
        .env("KEFU_BUYER_TOKEN_SECRET", "cli-test-secret")
        .output()
        .expect("server runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let token = String::from_utf8(output.stdout)
        .expect("utf-8")
        .trim()
        .to_owned();
    let now = domain::db::now_ms() / 1000;
    let claims = domain::chat::verify(b"cli-test-secret", &token, now).expect("valid token");
    assert_eq!(
        (
            claims.supplier_id,
            claims.buyer_id.as_str(),
            claims.name.as_str()
        ),
        (1, "CG1001", "王采购")
    );
    assert!(claims.exp > now + 7000 && claims.exp <= now + 7200);
    assert!(domain::chat::verify(b"another-secret", &token, now).is_err());

    // A field over its limit is refused with the reason, and nothing is printed.
    let long_name = "名".repeat(40);
    let refused = sign_buyer_token(&db, &long_name, "单位")
        .output()
        .expect("server runs");
    assert!(!refused.status.success());
    assert!(refused.stdout.is_empty());
}
