//! The order API and the admin's import routes end to end: the real routes on a real port, a
//! real SQLite file with the demo data, real API keys and admin logins, raw HTTP/1.1.

mod common;

use domain::logins::{Auth, Session};
use domain::orders::{OrderInput, OrderItemInput};
use serde_json::{Value, json};
use server::orders_api::{OrdersState, openapi_document};

struct Server {
    addr: std::net::SocketAddr,
    auth: Auth,
    /// The server's own import gate (to hold a supplier's turn as a running import does).
    import_gate: domain::orders::import::ImportGate,
    _dir: tempfile::TempDir,
}

async fn start() -> Server {
    let common::DemoDb { auth, dir } = common::demo_db().await;
    let orders = OrdersState::new(auth.clone());
    let import_gate = orders.import_gate.clone();
    let addr = common::serve(server::orders_api::routes(orders)).await;
    Server {
        addr,
        auth,
        import_gate,
        _dir: dir,
    }
}

struct Reply {
    status: u16,
    headers: String,
    body: Vec<u8>,
}

impl Reply {
    /// Asserts the status, showing the body when it is another.
    fn assert_status(&self, status: u16) {
        assert_eq!(
            self.status,
            status,
            "{}",
            String::from_utf8_lossy(&self.body)
        );
    }

    /// A text field of the JSON body.
    fn text(&self, key: &str) -> String {
        self.json()[key].as_str().expect(key).to_owned()
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|_| panic!("JSON body, got {}", String::from_utf8_lossy(&self.body)))
    }
}

fn dechunk(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(end) = body.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let size =
            usize::from_str_radix(std::str::from_utf8(&body[..end]).expect("size").trim(), 16)
                .expect("hex size");
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&body[end + 2..end + 2 + size]);
        body = &body[end + 2 + size + 2..];
    }
}

impl Server {
    async fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Reply {
        let host = self.addr.to_string();
        let raw = common::send(self.addr, &host, method, path, headers, body).await;
        let headers = raw.head.to_lowercase();
        let status = raw.status;
        let mut body = raw.body;
        if headers.contains("transfer-encoding: chunked") {
            body = dechunk(&body);
        }
        Reply {
            status,
            headers,
            body,
        }
    }

    /// Posts `body` to the admin's .xlsx import with `cookie`.
    async fn import(&self, cookie: &str, body: &[u8]) -> Reply {
        self.request("POST", "/admin/orders/import", &[("Cookie", cookie)], body)
            .await
    }

    async fn put_order(&self, key: &str, body: &Value) -> Reply {
        let auth = format!("Bearer {key}");
        self.request(
            "POST",
            "/api/v1/orders",
            &[
                ("Authorization", &auth),
                ("Content-Type", "application/json"),
            ],
            body.to_string().as_bytes(),
        )
        .await
    }

    /// GET of the import template with a session cookie.
    async fn template(&self, cookie: &str) -> Reply {
        self.request(
            "GET",
            "/admin/orders/template.xlsx",
            &[("Cookie", cookie)],
            b"",
        )
        .await
    }

    /// `login` (a demo admin) logs in: its cookie and session.
    async fn admin_cookie(&self, login: &str) -> (String, Session) {
        let (token, session) = self.admin(login).await;
        (format!("kefu_session={token}"), session)
    }

    async fn admin(&self, login: &str) -> (String, Session) {
        self.auth
            .login(login, domain::demo::ADMIN_PASSWORD, "127.0.0.1", "test")
            .await
            .expect("admin logs in")
    }

    /// A new API key of the admin's supplier, issued by that admin (no login needed).
    async fn key_of(&self, login: &str) -> (String, i64) {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        let admin = domain::entity::account::Entity::find()
            .filter(domain::entity::account::Column::Login.eq(login))
            .one(&self.auth.db)
            .await
            .expect("query")
            .expect("admin");
        let key = domain::orders::rotate_api_key(&self.auth.db, admin.supplier_id, admin.id)
            .await
            .expect("rotate");
        (key, admin.supplier_id)
    }
}

/// Order API-3 (one piece a line) with one change.
fn changed_order(change: impl FnOnce(&mut Value)) -> Value {
    let mut v = order_json("API-3", 1);
    change(&mut v);
    v
}

fn order_json(order_no: &str, quantity: i64) -> Value {
    json!({
        "order_no": order_no,
        "buyer_id": "CG9001",
        "buyer_name": "赵采购",
        "buyer_unit": "某县卫生院",
        "status": "待发货",
        "created_at": 1_795_141_800_000i64,
        "paid_at": 1_795_142_400_000i64,
        "freight_fen": 1000,
        "consignee_name": "赵采购",
        "consignee_phone": "13912345678",
        "consignee_address": "某县人民路 8 号",
        "logistics_company": null,
        "tracking_no": null,
        "items": [
            { "name": "高山红富士苹果", "spec": "5kg/箱", "picture_url": "https://img.example.com/apple.jpg", "unit_price_fen": 5990, "quantity": quantity },
            { "name": "东北五常大米", "spec": "10kg/袋", "unit_price_fen": 8800, "quantity": 1 }
        ]
    })
}

async fn buyer_of(server: &Server, supplier_id: i64, external: &str) -> i64 {
    domain::orders::buyer_id_by_external(&server.auth.db, supplier_id, external)
        .await
        .expect("buyer")
}

#[tokio::test]
async fn create_then_update_is_idempotent_by_order_number() {
    let server = start().await;
    let (key, supplier) = server.key_of(domain::demo::ADMIN_LOGIN).await;

    let created = server.put_order(&key, &order_json("API-0001", 2)).await;
    created.assert_status(201);
    let body = created.json();
    assert_eq!(body["created"], true);
    let order_id = body["order_id"].as_i64().expect("order id");

    let again = server.put_order(&key, &order_json("API-0001", 2)).await;
    assert_eq!(again.status, 200);
    assert_eq!(
        again.json(),
        json!({ "order_id": order_id, "created": false })
    );

    // Update: one line only, new status; the lines are replaced.
    let mut changed = order_json("API-0001", 3);
    changed["status"] = json!("已发货");
    changed["items"].as_array_mut().expect("items").truncate(1);
    changed["logistics_company"] = json!("顺丰速运");
    let updated = server.put_order(&key, &changed).await;
    assert_eq!(updated.status, 200);

    let buyer = buyer_of(&server, supplier, "CG9001").await;
    let detail = domain::orders::detail(&server.auth.db, supplier, buyer, order_id)
        .await
        .expect("detail");
    assert_eq!(detail.status, "已发货");
    assert_eq!(detail.items.len(), 1);
    assert_eq!(detail.items[0].quantity, 3);
    assert_eq!(detail.total_fen, 5990 * 3 + 1000);
    assert_eq!(detail.consignee_phone_masked, "139****5678");
    let page = domain::orders::list_for_buyer(&server.auth.db, supplier, buyer, 0)
        .await
        .expect("list");
    assert_eq!(page.orders.len(), 1, "one order for one order number");
}

#[tokio::test]
async fn missing_or_wrong_key_is_401_json() {
    let server = start().await;
    let (key, _) = server.key_of(domain::demo::ADMIN_LOGIN).await;
    let body = order_json("API-0002", 1).to_string();
    for headers in [
        vec![("Content-Type", "application/json")],
        vec![
            ("Authorization", "Bearer kf_wrong"),
            ("Content-Type", "application/json"),
        ],
        vec![
            ("Authorization", "Bearer "),
            ("Content-Type", "application/json"),
        ],
        vec![
            ("Authorization", "Basic YWRtaW46YWRtaW4="),
            ("Content-Type", "application/json"),
        ],
    ] {
        let reply = server
            .request("POST", "/api/v1/orders", &headers, body.as_bytes())
            .await;
        assert_eq!(reply.status, 401, "{headers:?}");
        assert!(reply.headers.contains("www-authenticate: bearer"));
        let error = reply.json()["error"].as_str().expect("error").to_owned();
        assert!(error.contains("密钥"), "{error}");
    }
    // A rotated key stops working at once.
    let (new_key, _) = server.key_of(domain::demo::ADMIN_LOGIN).await;
    for (key, status) in [(&key, 401), (&new_key, 201)] {
        let order = order_json("API-0002", 1);
        server.put_order(key, &order).await.assert_status(status);
    }
}

#[tokio::test]
async fn another_suppliers_key_cannot_touch_this_suppliers_orders() {
    let server = start().await;
    let (key1, s1) = server.key_of(domain::demo::ADMIN_LOGIN).await;
    let (key2, s2) = server.key_of(domain::demo::ADMIN2_LOGIN).await;
    let mine = server.put_order(&key1, &order_json("SAME-NO", 1)).await;
    assert_eq!(mine.status, 201);
    let mine_id = mine.json()["order_id"].as_i64().expect("id");

    // Supplier 2 sends the same order number with other content: it gets its own order.
    let mut theirs = order_json("SAME-NO", 9);
    theirs["status"] = json!("已取消");
    let reply = server.put_order(&key2, &theirs).await;
    assert_eq!(
        reply.status, 201,
        "a new order of supplier 2, not an update of supplier 1's"
    );
    assert_ne!(reply.json()["order_id"].as_i64(), Some(mine_id));

    let buyer1 = buyer_of(&server, s1, "CG9001").await;
    let untouched = domain::orders::detail(&server.auth.db, s1, buyer1, mine_id)
        .await
        .expect("still there");
    assert_eq!(untouched.status, "待发货");
    assert_eq!(untouched.items[0].quantity, 1);
    let buyer2 = buyer_of(&server, s2, "CG9001").await;
    assert!(matches!(
        domain::orders::detail(&server.auth.db, s2, buyer2, mine_id).await,
        Err(domain::DomainError::NotFound)
    ));
}

#[tokio::test]
async fn oversize_body_is_413() {
    let server = start().await;
    let (key, _) = server.key_of(domain::demo::ADMIN_LOGIN).await;
    let mut huge = order_json("API-BIG", 1);
    huge["buyer_unit"] = json!("单".repeat(100_000)); // ~300 KB of UTF-8
    let reply = server.put_order(&key, &huge).await;
    assert_eq!(reply.status, 413);
    // Just under the cap is read and judged on its content (a field too long, not too large).
    let mut big = order_json("API-BIG", 1);
    big["buyer_unit"] = json!("单".repeat(80_000));
    let reply = server.put_order(&key, &big).await;
    assert_eq!(reply.status, 422);
    assert_eq!(reply.json()["field"], "buyer_unit");
}

#[tokio::test]
async fn invalid_payloads_name_the_field() {
    let server = start().await;
    let (key, _) = server.key_of(domain::demo::ADMIN_LOGIN).await;
    let cases: Vec<(Value, u16, &str, &str)> = vec![
        (order_json("API-3", 0), 422, "items[0].quantity", "数量"),
        (
            changed_order(|v| {
                v["items"][1]["quantity"] = json!("两箱");
            }),
            422,
            "items[1].quantity",
            "items[1].quantity",
        ),
        (
            changed_order(|v| {
                v["items"][1]["colour"] = json!("red");
            }),
            422,
            "items[1].colour",
            "不支持",
        ),
        (
            changed_order(|v| {
                v.as_object_mut().expect("object").remove("order_no");
            }),
            422,
            "order_no",
            "缺少",
        ),
        (
            changed_order(|v| {
                v["items"][0]["unit_price_fen"] = json!(12.5);
            }),
            422,
            "items[0].unit_price_fen",
            "整数分",
        ),
        (
            changed_order(|v| {
                v["status"] = json!("已付款");
            }),
            422,
            "status",
            "订单状态",
        ),
        (
            changed_order(|v| {
                v["items"][1]["picture_url"] = json!("javascript:alert(1)");
            }),
            422,
            "items[1].picture_url",
            "图片",
        ),
        (
            changed_order(|v| {
                v["items"] = json!(vec![
                    json!({"name": "x", "unit_price_fen": 1, "quantity": 1});
                    101
                ]);
            }),
            422,
            "items",
            "100",
        ),
    ];
    for (body, status, field, words) in cases {
        let reply = server.put_order(&key, &body).await;
        assert_eq!(
            reply.status,
            status,
            "{field}: {}",
            String::from_utf8_lossy(&reply.body)
        );
        let json = reply.json();
        assert_eq!(json["field"], field);
        let error = json["error"].as_str().expect("error");
        assert!(error.contains(words), "{field}: {error}");
    }
    let auth = format!("Bearer {key}");
    let broken = server
        .request(
            "POST",
            "/api/v1/orders",
            &[
                ("Authorization", &auth),
                ("Content-Type", "application/json"),
            ],
            b"{\"order_no\": ",
        )
        .await;
    assert_eq!(broken.status, 400);
    assert!(broken.text("error").contains("JSON"));
    let text = server
        .request(
            "POST",
            "/api/v1/orders",
            &[("Authorization", &auth), ("Content-Type", "text/plain")],
            b"{}",
        )
        .await;
    assert_eq!(text.status, 415);
    // Nothing of it was stored.
    let reply = server.put_order(&key, &order_json("API-3", 1)).await;
    assert_eq!(reply.status, 201);
}

#[tokio::test]
async fn openapi_is_served_and_names_every_field() {
    let server = start().await;
    let reply = server
        .request("GET", "/api/v1/openapi.json", &[], b"")
        .await;
    assert_eq!(reply.status, 200);
    assert!(reply.headers.contains("content-type: application/json"));
    let doc = reply.json();
    assert_eq!(doc, openapi_document());
    assert!(doc["openapi"].as_str().expect("version").starts_with("3."));
    assert!(doc["paths"]["/api/v1/orders"]["post"].is_object());

    // Every field of the request types is described, and nothing that is not a field.
    let sample = OrderInput {
        order_no: String::new(),
        buyer_id: String::new(),
        buyer_name: String::new(),
        buyer_unit: String::new(),
        status: String::new(),
        created_at: 0,
        paid_at: None,
        freight_fen: 0,
        consignee_name: String::new(),
        consignee_phone: String::new(),
        consignee_address: String::new(),
        logistics_company: None,
        tracking_no: None,
        items: vec![OrderItemInput {
            name: String::new(),
            spec: String::new(),
            picture_url: None,
            unit_price_fen: 0,
            quantity: 0,
        }],
    };
    let value = serde_json::to_value(&sample).expect("serialise");
    let keys = |v: &Value| {
        let mut k: Vec<String> = v.as_object().expect("object").keys().cloned().collect();
        k.sort();
        k
    };
    let schemas = &doc["components"]["schemas"];
    assert_eq!(keys(&schemas["OrderInput"]["properties"]), keys(&value));
    assert_eq!(
        keys(&schemas["OrderItemInput"]["properties"]),
        keys(&value["items"][0])
    );
    for required in schemas["OrderInput"]["required"]
        .as_array()
        .expect("required")
    {
        assert!(value.get(required.as_str().expect("name")).is_some());
    }
}

#[tokio::test]
async fn admin_downloads_the_template_and_imports_it() {
    let server = start().await;
    let (cookie, session) = server.admin_cookie(domain::demo::ADMIN_LOGIN).await;

    let template = server.template(&cookie).await;
    assert_eq!(template.status, 200);
    assert!(template.headers.contains("spreadsheetml"));
    assert!(template.body.starts_with(b"PK\x03\x04"));

    let imported = server.import(&cookie, &template.body).await;
    imported.assert_status(200);
    assert_eq!(
        imported.json(),
        json!({ "result": "imported", "orders_created": 1, "orders_updated": 0, "items": 2 })
    );
    let buyer = buyer_of(&server, session.supplier_id, "CG1001").await;
    let page = domain::orders::list_for_buyer(&server.auth.db, session.supplier_id, buyer, 0)
        .await
        .expect("list");
    assert!(page.orders.iter().any(|o| o.order_no == "832202611200001"));

    let wrong = server.import(&cookie, b"order_no,buyer\n1,2\n").await;
    assert_eq!(wrong.status, 422);
    let json = wrong.json();
    assert_eq!(json["result"], "rejected");
    assert!(json["message"].as_str().expect("message").contains("xlsx"));

    let huge = vec![b'P'; domain::orders::import::MAX_IMPORT_BYTES + 10];
    let too_big = server.import(&cookie, &huge).await;
    assert_eq!(too_big.status, 413);
    assert!(too_big.text("message").contains("5 MB"));

    // No login, or an agent's login: refused.
    let anonymous = server
        .request("POST", "/admin/orders/import", &[], &template.body)
        .await;
    assert_eq!(anonymous.status, 401);
    let (agent_token, _) = server
        .auth
        .login("kf101", domain::demo::AGENT_PASSWORD, "127.0.0.1", "test")
        .await
        .expect("agent logs in");
    let agent_cookie = format!("kefu_session={agent_token}");
    let agent = server.import(&agent_cookie, &template.body).await;
    assert_eq!(agent.status, 403);
    let agent_template = server.template(&agent_cookie).await;
    assert_eq!(agent_template.status, 403);
}

#[tokio::test]
async fn a_second_import_of_one_supplier_is_refused_while_one_runs() {
    let server = start().await;
    let (cookie, session) = server.admin_cookie(domain::demo::ADMIN_LOGIN).await;
    let (cookie2, session2) = server.admin_cookie(domain::demo::ADMIN2_LOGIN).await;
    assert_ne!(session.supplier_id, session2.supplier_id);
    let template = domain::orders::orders_template_xlsx().expect("template");
    let imports = |supplier_id: i64| {
        use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
        let db = server.auth.db.clone();
        async move {
            domain::entity::audit_log::Entity::find()
                .filter(domain::entity::audit_log::Column::SupplierId.eq(supplier_id))
                .filter(
                    domain::entity::audit_log::Column::Action
                        .eq(domain::entity::audit_log::ACTION_ORDERS_IMPORTED),
                )
                .count(&db)
                .await
                .expect("audit")
        }
    };

    // The first supplier's import is running (its turn is held here, as the running import
    // holds it): a second upload of theirs is 429 with the Chinese reason, and nothing is
    // imported.
    let running = server
        .import_gate
        .try_begin(session.supplier_id)
        .expect("the running import's turn");
    let refused = server.import(&cookie, &template).await;
    refused.assert_status(429);
    let json = refused.json();
    assert_eq!(json["result"], "rejected");
    assert_eq!(
        json["message"],
        "已有一个订单导入正在进行，请等它完成后再试"
    );
    assert_eq!(imports(session.supplier_id).await, 0);

    // Another supplier is not held up.
    let other = server.import(&cookie2, &template).await;
    other.assert_status(200);
    assert_eq!(imports(session2.supplier_id).await, 1);

    // When the running import ends, the supplier imports again.
    drop(running);
    let again = server.import(&cookie, &template).await;
    again.assert_status(200);
    assert_eq!(imports(session.supplier_id).await, 1);
}
