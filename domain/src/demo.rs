//! Demo data so a person can try the product locally: two suppliers with their admins and
//! agents, buyers from different budget units, a few dozen farm-product orders, and about thirty
//! ended conversations (with their messages) so the 在线会话清单 has something to show.
//!
//! Logins (all passwords are shown here on purpose; this is demo data):
//! - 示例农产品供应商: admin `demo_admin` / `Demo@832admin`; agents 客服小童 and 客服小李 whose
//!   logins follow the 工号 rule (`kf101`, `kf102` on a fresh database) / `Demo@832agent`.
//! - 山区茶叶合作社 (for tenant tests): admin `demo_admin2` / `Demo@832admin`; agent 茶社客服 /
//!   `Demo@832agent`.

use std::collections::HashMap;

use chrono::{Days, FixedOffset, TimeZone};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    Set,
};

use crate::DomainError;
use crate::accounts::{create_agent, create_supplier};
use crate::db::{begin_write, now_ms};
use crate::entity::{account, buyer, conversation, message, order_item, purchase_order, supplier};
use crate::password::PasswordHasher;
use crate::reports::{shanghai, shanghai_day_start_ms};

/// The first demo supplier.
pub const SUPPLIER_NAME: &str = "示例农产品供应商";
/// The second demo supplier (another tenant).
pub const SUPPLIER2_NAME: &str = "山区茶叶合作社";
/// Admin login of the first demo supplier.
pub const ADMIN_LOGIN: &str = "demo_admin";
/// Admin login of the second demo supplier.
pub const ADMIN2_LOGIN: &str = "demo_admin2";
/// Password of both demo admins.
pub const ADMIN_PASSWORD: &str = "Demo@832admin";
/// Password of every demo agent.
pub const AGENT_PASSWORD: &str = "Demo@832agent";
/// Display names of the first supplier's agents.
pub const AGENT_NAMES: [&str; 2] = ["客服小童", "客服小李"];
/// Display name of the second supplier's agent.
pub const AGENT2_NAME: &str = "茶社客服";

const DAY_MS: i64 = 24 * 60 * 60 * 1000;
const MINUTE_MS: i64 = 60 * 1000;

/// (客户编号, name, unit, delivery address) of the first supplier's buyers.
const BUYERS: [(&str, &str, &str, &str); 3] = [
    (
        "CG1001",
        "王采购",
        "某县第一中学",
        "某省某县城关镇学府路 18 号 某县第一中学 食堂",
    ),
    (
        "CG1002",
        "李老师",
        "某市人民医院",
        "某省某市健康大道 66 号 某市人民医院 后勤处",
    ),
    (
        "CG1003",
        "赵科长",
        "某区农业农村局",
        "某省某市某区政务中心 3 号楼 农业农村局 201 室",
    ),
];
/// The second supplier's buyer.
const BUYER2: (&str, &str, &str, &str) = (
    "CG2001",
    "孙主任",
    "某镇卫生院",
    "某省某县某镇中心街 9 号 某镇卫生院 办公室",
);

/// (name, spec, unit price in fen, picture number) of the first supplier's products.
const FARM_PRODUCTS: [(&str, &str, i64, u32); 8] = [
    ("高山小米", "5kg/袋", 6_800, 1),
    ("土蜂蜜", "500g/瓶", 5_800, 2),
    ("野生木耳", "250g/袋", 4_500, 3),
    ("富硒大米", "10kg/袋", 8_900, 4),
    ("红薯粉条", "2.5kg/箱", 3_900, 5),
    ("农家菜籽油", "5L/桶", 12_800, 6),
    ("高山土豆", "10kg/箱", 4_200, 1),
    ("香菇干", "500g/袋", 7_600, 3),
];
/// The second supplier's products.
const TEA_PRODUCTS: [(&str, &str, i64, u32); 3] = [
    ("高山绿茶", "250g/罐", 9_800, 4),
    ("古树红茶", "200g/盒", 12_800, 5),
    ("野生白茶饼", "357g/饼", 16_800, 6),
];
const LOGISTICS: [&str; 4] = ["顺丰速运", "中国邮政", "京东物流", "中通快递"];

/// Orders of the first supplier; the second gets [`TEA_ORDERS`] more.
const FARM_ORDERS: usize = 30;
const TEA_ORDERS: usize = 6;

/// Loads the demo data. Idempotent: does nothing when 示例农产品供应商 already exists.
pub async fn seed(db: &DatabaseConnection, hasher: &PasswordHasher) -> Result<(), DomainError> {
    if supplier::Entity::find()
        .filter(supplier::Column::Name.eq(SUPPLIER_NAME))
        .one(db)
        .await?
        .is_some()
    {
        return Ok(());
    }
    let supplier1 = match create_supplier(
        db,
        hasher,
        SUPPLIER_NAME,
        ADMIN_LOGIN,
        "客服管理员",
        Some(ADMIN_PASSWORD),
    )
    .await
    {
        Ok((id, _)) => id,
        // Another process seeded at the same moment.
        Err(DomainError::Conflict(_)) => return Ok(()),
        Err(err) => return Err(err),
    };
    let agent_hash = hasher.hash(AGENT_PASSWORD).await?;
    let mut farm_agents = Vec::new();
    for name in AGENT_NAMES {
        let (agent, _) = create_agent(db, hasher, supplier1, name, None).await?;
        set_password_hash(db, agent.id, &agent_hash).await?;
        farm_agents.push(agent.id);
    }

    let (supplier2, _) = create_supplier(
        db,
        hasher,
        SUPPLIER2_NAME,
        ADMIN2_LOGIN,
        "客服管理员",
        Some(ADMIN_PASSWORD),
    )
    .await?;
    let (tea_agent, _) = create_agent(db, hasher, supplier2, AGENT2_NAME, None).await?;
    set_password_hash(db, tea_agent.id, &agent_hash).await?;

    let now = now_ms();
    let txn = begin_write(db).await?;
    let mut farm_buyers = Vec::new();
    for (external_id, name, unit, address) in BUYERS {
        let row = insert_buyer(&txn, supplier1, external_id, name, unit, now - 90 * DAY_MS).await?;
        farm_buyers.push((row, address));
    }
    let (external_id, name, unit, address) = BUYER2;
    let tea_buyer =
        insert_buyer(&txn, supplier2, external_id, name, unit, now - 90 * DAY_MS).await?;

    let total = FARM_ORDERS + TEA_ORDERS;
    for i in 0..total {
        let (supplier_id, (buyer_row, address), products): (i64, (&buyer::Model, &str), &[_]) =
            if i < FARM_ORDERS {
                let (row, address) = &farm_buyers[i % farm_buyers.len()];
                (supplier1, (row, *address), &FARM_PRODUCTS)
            } else {
                (supplier2, (&tea_buyer, address), &TEA_PRODUCTS)
            };
        insert_order(
            &txn,
            supplier_id,
            buyer_row,
            address,
            products,
            i,
            total,
            now,
        )
        .await?;
    }

    let farm_buyer_ids: Vec<i64> = farm_buyers.iter().map(|(row, _)| row.id).collect();
    let mut chats = farm_chats(supplier1, &farm_buyer_ids, &farm_agents, now);
    chats.extend(tea_chats(supplier2, tea_buyer.id, tea_agent.id, now));
    insert_chats(&txn, &chats).await?;
    txn.commit().await?;
    Ok(())
}

async fn set_password_hash(
    db: &DatabaseConnection,
    account_id: i64,
    hash: &str,
) -> Result<(), DomainError> {
    account::Entity::update_many()
        .col_expr(account::Column::PasswordHash, Expr::value(hash.to_owned()))
        .filter(account::Column::Id.eq(account_id))
        .exec(db)
        .await?;
    Ok(())
}

async fn insert_buyer(
    db: &impl sea_orm::ConnectionTrait,
    supplier_id: i64,
    external_id: &str,
    name: &str,
    unit: &str,
    created_at: i64,
) -> Result<buyer::Model, DomainError> {
    Ok(buyer::ActiveModel {
        supplier_id: Set(supplier_id),
        external_id: Set(external_id.to_owned()),
        name: Set(name.to_owned()),
        unit: Set(unit.to_owned()),
        created_at: Set(created_at),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

/// Inserts the `i`-th of `total` demo orders: spread over the last 60 days (oldest first),
/// cycling through every status, with 1–3 items.
#[allow(clippy::too_many_arguments)]
async fn insert_order(
    db: &impl sea_orm::ConnectionTrait,
    supplier_id: i64,
    buyer: &buyer::Model,
    address: &str,
    products: &[(&str, &str, i64, u32)],
    i: usize,
    total: usize,
    now: i64,
) -> Result<(), DomainError> {
    let n = i as i64;
    let days_ago = 59 - n * 59 / (total as i64 - 1).max(1);
    let created_at = now - days_ago * DAY_MS - ((n * 53) % 480 + 30) * MINUTE_MS;
    let status = purchase_order::STATUSES[i % purchase_order::STATUSES.len()];

    let item_count = 1 + i % 3;
    let items: Vec<(&str, &str, i64, u32, i32)> = (0..item_count)
        .map(|k| {
            let (name, spec, price, picture) = products[(i + k * 3) % products.len()];
            let quantity = 1 + ((i + k * 2) % 5) as i32;
            (name, spec, price, picture, quantity)
        })
        .collect();
    let goods_fen: i64 = items
        .iter()
        .map(|(_, _, price, _, qty)| price * i64::from(*qty))
        .sum();
    let freight_fen = if goods_fen >= 9_900 { 0 } else { 1_000 };

    let paid_at = match status {
        "待付款" | "已取消" => None,
        _ => Some(created_at + 12 * MINUTE_MS),
    };
    let shipped = matches!(status, "已发货" | "待验收" | "已完成" | "售后中");
    let (logistics_company, tracking_no) = if shipped {
        (
            Some(LOGISTICS[i % LOGISTICS.len()].to_owned()),
            Some(format!(
                "{}{:010}",
                ["SF", "YZ", "JD", "ZT"][i % 4],
                7_310_000_000 + n * 7_919
            )),
        )
    } else {
        (None, None)
    };
    let updated_at = if shipped {
        created_at + DAY_MS
    } else {
        paid_at.unwrap_or(created_at)
    }
    .min(now);

    let beijing = FixedOffset::east_opt(8 * 3600)
        .ok_or_else(|| DomainError::Internal("UTC+8 offset".to_owned()))?;
    let date = beijing
        .timestamp_millis_opt(created_at)
        .single()
        .map(|t| t.format("%Y%m%d").to_string())
        .unwrap_or_default();

    let order = purchase_order::ActiveModel {
        supplier_id: Set(supplier_id),
        buyer_id: Set(buyer.id),
        order_no: Set(format!("832{date}{supplier_id}{:04}", 1_000 + n * 37)),
        status: Set(status.to_owned()),
        total_fen: Set(goods_fen + freight_fen),
        freight_fen: Set(freight_fen),
        created_at: Set(created_at),
        paid_at: Set(paid_at),
        consignee_name: Set(buyer.name.clone()),
        consignee_phone: Set(format!("138{:08}", 138_000 + n)),
        consignee_address: Set(address.to_owned()),
        logistics_company: Set(logistics_company),
        tracking_no: Set(tracking_no),
        updated_at: Set(updated_at),
        ..Default::default()
    }
    .insert(db)
    .await?;

    for (name, spec, price, picture, quantity) in items {
        order_item::ActiveModel {
            order_id: Set(order.id),
            name: Set(name.to_owned()),
            spec: Set(spec.to_owned()),
            picture_url: Set(format!("/demo/product-{picture}.svg")),
            unit_price_fen: Set(price),
            quantity: Set(quantity),
            ..Default::default()
        }
        .insert(db)
        .await?;
    }
    Ok(())
}

/// Questions demo buyers ask, each with the agent's answer.
const QUESTIONS: [(&str, &str); 8] = [
    (
        "请问这款高山小米什么时候发货？",
        "您好，付款后 48 小时内发货，默认顺丰速运。",
    ),
    (
        "土蜂蜜有检测报告吗？",
        "有的，每批都有第三方检测报告，稍后发给您。",
    ),
    (
        "我们食堂想订 20 袋富硒大米，能开发票吗？",
        "可以开具增值税普通发票，下单时填写单位抬头和税号即可。",
    ),
    (
        "订单已经付款了，麻烦尽快安排发货。",
        "好的，已经通知仓库优先打包，今天下午发出。",
    ),
    (
        "野生木耳的保质期是多久？",
        "保质期 18 个月，请放在阴凉干燥处保存。",
    ),
    (
        "收到的红薯粉条有一箱破损了，怎么处理？",
        "非常抱歉！请拍照发给我们，核实后马上为您补发。",
    ),
    (
        "可以直接送到单位食堂吗？",
        "可以的，请在收货地址里注明食堂和联系人。",
    ),
    (
        "农家菜籽油现在有货吗？",
        "有货的，5L 装库存充足，下单当天就能发。",
    ),
];
/// Questions to the second supplier.
const TEA_QUESTIONS: [(&str, &str); 2] = [
    (
        "高山绿茶是今年的新茶吗？",
        "是的，今年清明前采摘的，欢迎品尝。",
    ),
    (
        "古树红茶可以做单位福利的礼盒装吗？",
        "可以定制礼盒，30 盒起订，我把报价发给您。",
    ),
];
const THANKS: (&str, &str) = ("好的，谢谢！", "不客气，祝您工作顺利！");
/// What a buyer left waiting writes.
const UNANSWERED: [&str; 2] = ["请问有人在吗？", "想咨询一下高山小米的价格。"];
const TAKEOVER: &str = "您好，之前的客服暂时离开了，您的问题由我继续处理。";

const SECOND_MS: i64 = 1000;

/// One demo conversation, before insertion.
struct DemoChat {
    supplier_id: i64,
    buyer_id: i64,
    agent_id: Option<i64>,
    entered_at: i64,
    /// t1; `None` when no agent ever joined.
    joined_at: Option<i64>,
    ended_at: i64,
    end_reason: &'static str,
    /// (sender is the agent, text, sent at), in order.
    messages: Vec<(bool, &'static str, i64)>,
}

/// Who met in a served demo conversation and how it went in time: the buyer came in at
/// `entered_at`, the agent joined `wait_ms` later and answered `reply_ms` after that, and the
/// conversation ended `session_ms` after the buyer came in.
#[derive(Clone, Copy)]
struct Visit {
    supplier_id: i64,
    buyer_id: i64,
    agent_id: i64,
    entered_at: i64,
    wait_ms: i64,
    reply_ms: i64,
    session_ms: i64,
}

impl Visit {
    /// The conversation served by `agent_id`: buyer lines before the first answer are written
    /// while waiting, the rest of the exchange spreads over the session.
    fn served(self, end_reason: &'static str, script: &[(bool, &'static str)]) -> DemoChat {
        let entered_at = self.entered_at;
        let joined_at = entered_at + self.wait_ms;
        let ended_at = entered_at + self.session_ms;
        let mut messages = Vec::new();
        let first_agent = script.iter().position(|(by_agent, _)| *by_agent);
        // Buyer lines before the first answer are written while waiting; the first answer
        // comes `reply_ms` after the agent joins; the rest share what is left of the session.
        let later = script.len() - first_agent.map_or(script.len(), |i| i + 1);
        let first_reply_at = joined_at + self.reply_ms;
        let step = (ended_at - 5 * SECOND_MS - first_reply_at) / (later as i64 + 1);
        let mut k = 0;
        for (i, (by_agent, text)) in script.iter().enumerate() {
            let at = match first_agent {
                Some(first) if i < first => entered_at + (1 + i as i64) * SECOND_MS,
                Some(first) if i == first => first_reply_at,
                Some(_) => {
                    k += 1;
                    first_reply_at + k * step
                }
                // The agent never wrote: buyer lines spread over the session.
                None => {
                    joined_at + (i as i64 + 1) * (ended_at - joined_at) / (script.len() as i64 + 1)
                }
            };
            messages.push((*by_agent, *text, at));
        }
        DemoChat {
            supplier_id: self.supplier_id,
            buyer_id: self.buyer_id,
            agent_id: Some(self.agent_id),
            entered_at,
            joined_at: Some(joined_at),
            ended_at,
            end_reason,
            messages,
        }
    }
}

/// 00:00 Asia/Shanghai `days_ago` days before `now`.
fn shanghai_midnight(now: i64, days_ago: u64) -> i64 {
    let today = shanghai()
        .timestamp_millis_opt(now)
        .single()
        .map(|t| t.date_naive())
        .unwrap_or_default();
    shanghai_day_start_ms(today.checked_sub_days(Days::new(days_ago)).unwrap_or(today))
}

/// About thirty ended conversations of the first supplier over the last 30 days (none today),
/// in office hours, spread over its buyers and both agents, with every way of ending: mostly
/// 客服结束, some 客户结束 and 超时结束, one buyer nobody served (超时结束, no agent), one whose
/// agent never wrote (no 首次响应), and one 剔除转接 handed over to the other agent.
fn farm_chats(supplier_id: i64, buyers: &[i64], agents: &[i64], now: i64) -> Vec<DemoChat> {
    const COUNT: i64 = 30;
    let mut chats = Vec::new();
    if buyers.is_empty() || agents.is_empty() {
        return chats;
    }
    for i in 0..COUNT {
        let days_ago = (1 + (COUNT - 1 - i) * 28 / (COUNT - 1)) as u64;
        let entered_at = shanghai_midnight(now, days_ago)
            + (9 * 60 + (i * 53) % 480) * MINUTE_MS
            + ((i * 17) % 60) * SECOND_MS
            + (i * 271) % 1000;
        let buyer_id = buyers[i as usize % buyers.len()];
        let agent_id = agents[((i + i / 7) % 2) as usize % agents.len()];
        // Shown to the second, a wait of 2..=119 s plus a fraction reads as 2..=120 s.
        let wait_ms = (2 + (i * 47) % 118) * SECOND_MS + (i * 113) % 1000;
        let reply_ms = (3 + (i * 5) % 10) * SECOND_MS + (i * 389) % 1000;
        let session_ms = ((30 + (i * 337) % 2370) * SECOND_MS).max(wait_ms + 60 * SECOND_MS);
        let (question, answer) = QUESTIONS[i as usize % QUESTIONS.len()];
        let (question2, answer2) = QUESTIONS[(i as usize + 3) % QUESTIONS.len()];
        let visit = Visit {
            supplier_id,
            buyer_id,
            agent_id,
            entered_at,
            wait_ms,
            reply_ms,
            session_ms,
        };
        let mut script = vec![(false, question), (true, answer)];
        if i % 3 == 1 {
            script.extend([(false, question2), (true, answer2)]);
        }
        match i {
            // Nobody served this buyer: it timed out after 15 minutes in the queue.
            9 => chats.push(DemoChat {
                supplier_id,
                buyer_id,
                agent_id: None,
                entered_at,
                joined_at: None,
                ended_at: entered_at + 15 * MINUTE_MS,
                end_reason: conversation::END_TIMEOUT,
                messages: vec![
                    (false, UNANSWERED[0], entered_at + SECOND_MS),
                    (false, UNANSWERED[1], entered_at + 20 * SECOND_MS),
                ],
            }),
            // The agent opened it but the buyer left before any answer.
            20 => chats.push(
                Visit {
                    session_ms: wait_ms + 90 * SECOND_MS,
                    ..visit
                }
                .served(
                    conversation::END_BUYER,
                    &[(false, question), (false, UNANSWERED[0])],
                ),
            ),
            // The agent's login was kicked mid-conversation; the other agent took the buyer.
            15 => {
                let kicked = visit.served(
                    conversation::END_KICKED,
                    &[(false, question), (true, answer), (false, question2)],
                );
                let other = agents[(((i + i / 7) % 2 + 1) % 2) as usize % agents.len()];
                let handed_over = kicked.ended_at;
                chats.push(kicked);
                let taken_over = Visit {
                    agent_id: other,
                    entered_at: handed_over,
                    wait_ms: 4 * SECOND_MS + 200,
                    reply_ms: 6 * SECOND_MS + 500,
                    session_ms: 6 * MINUTE_MS,
                    ..visit
                };
                chats.push(taken_over.served(
                    conversation::END_AGENT,
                    &[
                        (true, TAKEOVER),
                        (true, answer2),
                        THANKS_BUYER,
                        THANKS_AGENT,
                    ],
                ));
            }
            _ => {
                let end_reason = match i % 5 {
                    3 => conversation::END_BUYER,
                    4 => conversation::END_TIMEOUT,
                    _ => conversation::END_AGENT,
                };
                // Timed-out buyers went quiet; the others said thanks.
                if end_reason != conversation::END_TIMEOUT {
                    script.extend([THANKS_BUYER, THANKS_AGENT]);
                }
                chats.push(visit.served(end_reason, &script));
            }
        }
    }
    chats
}

const THANKS_BUYER: (bool, &str) = (false, THANKS.0);
const THANKS_AGENT: (bool, &str) = (true, THANKS.1);

/// Two conversations of the second supplier, so its report is not empty either.
fn tea_chats(supplier_id: i64, buyer_id: i64, agent_id: i64, now: i64) -> Vec<DemoChat> {
    TEA_QUESTIONS
        .iter()
        .enumerate()
        .map(|(i, (question, answer))| {
            let entered_at =
                shanghai_midnight(now, 3 - 2 * i as u64) + (10 * 60 + 25 * i as i64) * MINUTE_MS;
            let visit = Visit {
                supplier_id,
                buyer_id,
                agent_id,
                entered_at,
                wait_ms: (15 + 20 * i as i64) * SECOND_MS,
                reply_ms: 5 * SECOND_MS,
                session_ms: (4 + 3 * i as i64) * MINUTE_MS,
            };
            visit.served(
                [conversation::END_AGENT, conversation::END_BUYER][i % 2],
                &[
                    (false, question),
                    (true, answer),
                    THANKS_BUYER,
                    THANKS_AGENT,
                ],
            )
        })
        .collect()
}

/// Inserts the conversations in one statement and their messages in another, with the
/// counters (`agent_msg_count`, `buyer_msg_count`, `last_seq`, `last_message_at`,
/// `first_agent_reply_at`) matching the messages.
async fn insert_chats(db: &impl ConnectionTrait, chats: &[DemoChat]) -> Result<(), DomainError> {
    if chats.is_empty() {
        return Ok(());
    }
    let rows = chats.iter().map(|chat| {
        let agent_msgs = chat.messages.iter().filter(|m| m.0).count() as i32;
        conversation::ActiveModel {
            supplier_id: Set(chat.supplier_id),
            buyer_id: Set(chat.buyer_id),
            agent_id: Set(chat.agent_id),
            status: Set(conversation::STATUS_ENDED.to_owned()),
            entered_at: Set(chat.entered_at),
            agent_joined_at: Set(chat.joined_at),
            first_agent_reply_at: Set(chat.messages.iter().find(|m| m.0).map(|m| m.2)),
            ended_at: Set(Some(chat.ended_at)),
            end_reason: Set(Some(chat.end_reason.to_owned())),
            agent_msg_count: Set(agent_msgs),
            buyer_msg_count: Set(chat.messages.len() as i32 - agent_msgs),
            last_seq: Set(chat.messages.len() as i32),
            last_message_at: Set(chat.messages.last().map_or(chat.entered_at, |m| m.2)),
            ..Default::default()
        }
    });
    let inserted = conversation::Entity::insert_many(rows)
        .exec_with_returning(db)
        .await?;
    // RETURNING order is not promised; (supplier, entered_at) is unique in the demo data.
    let ids: HashMap<(i64, i64), i64> = inserted
        .iter()
        .map(|c| ((c.supplier_id, c.entered_at), c.id))
        .collect();

    let mut messages = Vec::new();
    for chat in chats {
        let conversation_id = ids
            .get(&(chat.supplier_id, chat.entered_at))
            .copied()
            .ok_or_else(|| DomainError::Internal("demo conversation not inserted".to_owned()))?;
        for (seq, (by_agent, text, at)) in chat.messages.iter().enumerate() {
            let seq = seq as i32 + 1;
            messages.push(message::ActiveModel {
                conversation_id: Set(conversation_id),
                seq: Set(seq),
                sender: Set(if *by_agent {
                    message::SENDER_AGENT
                } else {
                    message::SENDER_BUYER
                }
                .to_owned()),
                sender_account_id: Set(if *by_agent { chat.agent_id } else { None }),
                client_msg_id: Set(format!("demo-{seq:03}")),
                kind: Set(message::KIND_TEXT.to_owned()),
                body: Set((*text).to_owned()),
                font_size: Set(DEMO_FONT_SIZE),
                upload_id: Set(None),
                order_id: Set(None),
                created_at: Set(*at),
                ..Default::default()
            });
        }
    }
    message::Entity::insert_many(messages)
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Font size (px) of the demo messages: the composer's default.
const DEMO_FONT_SIZE: i16 = 14;

/// How long a token signed for the `/demo` page is valid, in seconds.
pub const DEMO_TOKEN_SECS: i64 = 2 * 60 * 60;

/// A demo buyer of the first demo supplier, with a freshly signed widget token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DemoBuyerToken {
    /// 客户编号.
    pub buyer_id: String,
    /// The buyer's name, as the mall knows it.
    pub name: String,
    /// The buyer's budget unit.
    pub unit: String,
    /// The widget token (`/chat?token=…`), valid for [`DEMO_TOKEN_SECS`].
    pub token: String,
}

/// The first demo supplier's buyers (as [`seed`] creates them) with widget tokens signed with
/// `secret` at `now_secs` (unix seconds). `None` when the demo data was never loaded (no
/// [`ADMIN_LOGIN`] account), which keeps the `/demo` page shut in production.
pub async fn buyer_tokens(
    db: &DatabaseConnection,
    secret: &[u8],
    now_secs: i64,
) -> Result<Option<Vec<DemoBuyerToken>>, DomainError> {
    let admin = account::Entity::find()
        .filter(account::Column::Login.eq(ADMIN_LOGIN))
        .one(db)
        .await?;
    let Some(admin) = admin else {
        return Ok(None);
    };
    let tokens = BUYERS
        .iter()
        .map(|(buyer_id, name, unit, _)| {
            let claims = crate::chat::BuyerClaims {
                v: 1,
                supplier_id: admin.supplier_id,
                buyer_id: (*buyer_id).into(),
                name: (*name).into(),
                unit: (*unit).into(),
                exp: now_secs + DEMO_TOKEN_SECS,
            };
            DemoBuyerToken {
                buyer_id: (*buyer_id).into(),
                name: (*name).into(),
                unit: (*unit).into(),
                token: crate::chat::sign(secret, &claims),
            }
        })
        .collect();
    Ok(Some(tokens))
}
