//! `loadgen run`: the sockets, the phases and the report.

use std::sync::Arc;
use std::time::Duration;

use app::chat::protocol::{
    AgentFrame, AgentServerFrame, BuyerFrame, BuyerServerFrame, MessageAck, Sender,
};
use app::state::SESSION_COOKIE;
use domain::chat::{BuyerClaims, sign};
use futures_util::{SinkExt, StreamExt, stream};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::prepare::LoadAccounts;
use crate::stats::Stats;
use crate::{MAX_BUYERS, MAX_IDLE, MAX_MESSAGES, MAX_TIMEOUT_SECS, RunArgs, procfs};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Shortest gap between two messages of one buyer socket: the server refuses more than 10
/// frames in a second, so stay at ~8 per second.
const MIN_SEND_INTERVAL: Duration = Duration::from_millis(120);
/// How long one socket waits for a frame it expects.
const FRAME_WAIT: Duration = Duration::from_secs(30);

pub async fn run(args: RunArgs) -> Result<(), String> {
    if !args.addr.ip().is_loopback() {
        return Err(format!(
            "{} is not a loopback address: loadgen only runs against 127.0.0.1",
            args.addr
        ));
    }
    if args.idle > MAX_IDLE
        || args.buyers == 0
        || args.buyers > MAX_BUYERS
        || args.messages > MAX_MESSAGES
    {
        return Err(format!(
            "limits: --idle ≤ {MAX_IDLE}, --buyers 1–{MAX_BUYERS}, --messages ≤ {MAX_MESSAGES}"
        ));
    }
    if args.timeout_secs == 0 || args.timeout_secs > MAX_TIMEOUT_SECS {
        return Err(format!("--timeout-secs must be 1–{MAX_TIMEOUT_SECS}"));
    }
    let interval = match args.rate {
        Some(0) => return Err("--rate must be positive".into()),
        Some(rate) => {
            let interval = Duration::from_secs_f64(args.buyers as f64 / f64::from(rate));
            if interval < MIN_SEND_INTERVAL {
                let needed = (f64::from(rate) * MIN_SEND_INTERVAL.as_secs_f64()).ceil();
                return Err(format!(
                    "--rate {rate} needs at least {needed} --buyers (each sends ≤ 8/s)"
                ));
            }
            interval
        }
        None => MIN_SEND_INTERVAL,
    };
    let accounts: LoadAccounts =
        serde_json::from_slice(&std::fs::read(&args.agents).map_err(|e| {
            format!(
                "{}: {e} (run `loadgen prepare` first)",
                args.agents.display()
            )
        })?)
        .map_err(|e| format!("{}: {e}", args.agents.display()))?;
    let pid = match args.server_pid {
        Some(pid) => pid,
        None => procfs::pid_listening_on(args.addr.port())?,
    };
    println!("server pid {pid} on {}", args.addr);

    let timeout = Duration::from_secs(args.timeout_secs);
    let stats = Arc::new(Stats::new());
    match tokio::time::timeout(timeout, phases(&args, &accounts, pid, interval, &stats)).await {
        Ok(result) => result,
        Err(_) => {
            println!(
                "TIMEOUT after {} s: the figures below are partial",
                args.timeout_secs
            );
            report_counts(&stats, args.messages);
            Err("timed out".into())
        }
    }
}

async fn phases(
    args: &RunArgs,
    accounts: &LoadAccounts,
    pid: u32,
    interval: Duration,
    stats: &Arc<Stats>,
) -> Result<(), String> {
    // Agents first, 服务中, each read by its own task.
    let sessions: Vec<&String> = accounts
        .suppliers
        .iter()
        .flat_map(|s| s.agent_sessions.iter())
        .collect();
    let mut agent_tasks = Vec::new();
    for session in &sessions {
        let ws = agent_connects(args, session).await?;
        agent_tasks.push(tokio::spawn(read_agent(ws, stats.clone())));
    }
    println!("{} agents connected, 服务中", sessions.len());

    // Memory per idle socket.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_before = procfs::rss_kib(pid)?;
    let started = std::time::Instant::now();
    let idle = open_buyers(args, accounts.idle_supplier_id, "idle", args.idle, false).await?;
    let opened_in = started.elapsed();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_after = procfs::rss_kib(pid)?;
    println!(
        "idle buyer sockets: {} opened in {:.1} s ({:.0}/s)",
        idle.len(),
        opened_in.as_secs_f64(),
        idle.len() as f64 / opened_in.as_secs_f64().max(1e-9)
    );
    if !idle.is_empty() {
        let per_socket = (rss_after.saturating_sub(rss_before)) as f64 / idle.len() as f64;
        println!(
            "server RSS: {rss_before} KiB with no buyer socket, {rss_after} KiB with {} idle ones → {per_socket:.1} KiB per idle socket",
            idle.len()
        );
    }

    // Active buyers, spread over the suppliers (and so over their agents).
    let tag = domain::db::now_ms();
    let mut buyers = Vec::with_capacity(args.buyers);
    let suppliers: Vec<i64> = accounts.suppliers.iter().map(|s| s.supplier_id).collect();
    let per_supplier = args.buyers.div_ceil(suppliers.len());
    for (i, supplier_id) in suppliers.iter().enumerate() {
        let n = per_supplier.min(args.buyers - buyers.len());
        if n == 0 {
            break;
        }
        buyers.extend(open_buyers(args, *supplier_id, &format!("b{tag}-{i}"), n, true).await?);
    }
    let wait_assigned = std::time::Instant::now();
    while Stats::get(&stats.assigned) < buyers.len() as u64
        && wait_assigned.elapsed() < Duration::from_secs(30)
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    println!(
        "{} active buyers connected and assigned ({} Assigned seen by agents)",
        buyers.len(),
        Stats::get(&stats.assigned)
    );

    // Send phase.
    let rate = args.buyers as f64 / interval.as_secs_f64();
    println!(
        "sending {} messages from {} buyers, {:.0} msgs/s offered{}",
        args.messages,
        buyers.len(),
        rate,
        if args.rate.is_some() {
            " (--rate)"
        } else {
            " (each socket ~8/s, the per-socket limit)"
        }
    );
    let send_start = stats.now_us();
    let n = buyers.len() as u64;
    let mut tasks = Vec::with_capacity(buyers.len());
    for (i, ws) in buyers.into_iter().enumerate() {
        let quota = args.messages / n + u64::from((i as u64) < args.messages % n);
        // Buyers start spread over one interval, so the rate is even.
        let offset = interval.mul_f64(i as f64 / n as f64);
        tasks.push(tokio::spawn(buyer_sends(
            ws,
            quota,
            interval,
            offset,
            stats.clone(),
        )));
    }
    for task in tasks {
        let _ = task.await;
    }
    let acked = Stats::get(&stats.acked);
    let wait = std::time::Instant::now();
    while Stats::get(&stats.delivered) < acked && wait.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let stored_secs = (Stats::get(&stats.last_ack_us).saturating_sub(send_start)) as f64 / 1e6;
    let delivered_secs =
        (Stats::get(&stats.last_delivery_us).saturating_sub(send_start)) as f64 / 1e6;
    println!("--- results ---");
    report_counts(stats, args.messages);
    println!(
        "stored:    {acked} in {stored_secs:.2} s = {:.0} msgs/s",
        acked as f64 / stored_secs.max(1e-9)
    );
    let delivered = Stats::get(&stats.delivered);
    println!(
        "delivered: {delivered} in {delivered_secs:.2} s = {:.0} msgs/s",
        delivered as f64 / delivered_secs.max(1e-9)
    );
    if let Some((count, p50, p99, max)) = stats.delivery_latency.summary() {
        println!(
            "delivery latency (send → agent socket), {count} messages: p50 {p50:.2} ms, p99 {p99:.2} ms, max {max:.2} ms"
        );
    }
    if let Some((count, p50, p99, max)) = stats.ack_latency.summary() {
        println!(
            "ack latency (send → Ack, stored), {count} messages: p50 {p50:.2} ms, p99 {p99:.2} ms, max {max:.2} ms"
        );
    }
    println!(
        "server RSS at the end: {} KiB",
        procfs::rss_kib(pid).unwrap_or_default()
    );
    for task in agent_tasks {
        task.abort();
    }
    drop(idle);
    Ok(())
}

fn report_counts(stats: &Stats, messages: u64) {
    println!(
        "messages: {messages} to send, {} acked, {} refused, {} delivered; agents: {} error frames, {} sockets closed by the server",
        Stats::get(&stats.acked),
        Stats::get(&stats.refused),
        Stats::get(&stats.delivered),
        Stats::get(&stats.agent_errors),
        Stats::get(&stats.agent_closed),
    );
}

async fn next_frame<F: serde::de::DeserializeOwned>(ws: &mut Ws) -> Result<F, String> {
    loop {
        match tokio::time::timeout(FRAME_WAIT, ws.next()).await {
            Err(_) => return Err("no frame within 30 s".into()),
            Ok(Some(Ok(Message::Text(text)))) => {
                return serde_json::from_str(text.as_str())
                    .map_err(|e| format!("bad frame {text}: {e}"));
            }
            Ok(Some(Ok(Message::Close(_)))) | Ok(None) => return Err("socket closed".into()),
            Ok(Some(Err(e))) => return Err(e.to_string()),
            Ok(Some(Ok(_))) => {}
        }
    }
}

async fn send<T: serde::Serialize>(ws: &mut Ws, frame: &T) -> Result<(), String> {
    let text = serde_json::to_string(frame).map_err(|e| e.to_string())?;
    ws.send(Message::Text(text.into()))
        .await
        .map_err(|e| e.to_string())
}

async fn agent_connects(args: &RunArgs, session: &str) -> Result<Ws, String> {
    let mut req = format!("ws://{}/ws/agent", args.addr)
        .into_client_request()
        .map_err(|e| e.to_string())?;
    let cookie = format!("{SESSION_COOKIE}={session}")
        .parse()
        .map_err(|_| "bad session in the agents file".to_owned())?;
    req.headers_mut().insert("cookie", cookie);
    let (mut ws, _) = tokio_tungstenite::connect_async(req)
        .await
        .map_err(|e| format!("agent socket: {e}"))?;
    match next_frame::<AgentServerFrame>(&mut ws).await? {
        AgentServerFrame::Hello { .. } => {}
        other => {
            return Err(format!(
                "agent refused: {other:?} (sessions expire: run prepare again)"
            ));
        }
    }
    send(&mut ws, &AgentFrame::SetServing { serving: true }).await?;
    loop {
        match next_frame::<AgentServerFrame>(&mut ws).await? {
            AgentServerFrame::Status { serving: true } => return Ok(ws),
            AgentServerFrame::Error { message, .. } => {
                return Err(format!("服务中 refused: {message}"));
            }
            _ => {}
        }
    }
}

/// Counts what reaches an agent; the delivery latency comes from the send time in the body.
async fn read_agent(mut ws: Ws, stats: Arc<Stats>) {
    while let Some(msg) = ws.next().await {
        let Ok(Message::Text(text)) = msg else {
            if matches!(msg, Ok(Message::Close(_)) | Err(_)) {
                break;
            }
            continue;
        };
        match serde_json::from_str::<AgentServerFrame>(text.as_str()) {
            Ok(AgentServerFrame::Messages { messages, .. }) => {
                let now = stats.now_us();
                for m in messages.iter().filter(|m| m.sender == Sender::Buyer) {
                    if let Some(sent) = m.body.strip_prefix('t').and_then(|t| t.parse::<u64>().ok())
                    {
                        stats.delivery_latency.record_since(sent, now);
                    }
                    Stats::bump(&stats.delivered);
                }
                Stats::mark(&stats.last_delivery_us, now);
            }
            Ok(AgentServerFrame::Assigned { .. }) => Stats::bump(&stats.assigned),
            Ok(AgentServerFrame::Error { message, .. }) => {
                if Stats::get(&stats.agent_errors) < 5 {
                    eprintln!("agent socket error: {message}");
                }
                Stats::bump(&stats.agent_errors);
            }
            _ => {}
        }
    }
    Stats::bump(&stats.agent_closed);
}

/// Opens `count` buyer sockets of a supplier; each has had its `Hello` and, when `assigned`,
/// its `Assigned` (else `Queued`).
async fn open_buyers(
    args: &RunArgs,
    supplier_id: i64,
    prefix: &str,
    count: usize,
    assigned: bool,
) -> Result<Vec<Ws>, String> {
    let secret = args.buyer_token_secret.as_bytes();
    let exp = domain::db::now_ms() / 1000 + 3600;
    let addr = args.addr;
    let tokens: Vec<String> = (0..count)
        .map(|i| {
            sign(
                secret,
                &BuyerClaims {
                    v: 1,
                    supplier_id,
                    buyer_id: format!("{prefix}-{i}"),
                    name: format!("压测采购人{i}"),
                    unit: "压测单位".into(),
                    exp,
                },
            )
        })
        .collect();
    let results: Vec<Result<Ws, String>> = stream::iter(tokens)
        .map(|token| async move {
            let (mut ws, _) =
                tokio_tungstenite::connect_async(format!("ws://{addr}/ws/buyer?token={token}"))
                    .await
                    .map_err(|e| format!("buyer socket: {e}"))?;
            match next_frame::<BuyerServerFrame>(&mut ws).await? {
                BuyerServerFrame::Hello { .. } => {}
                other => return Err(format!("buyer refused: {other:?}")),
            }
            match (next_frame::<BuyerServerFrame>(&mut ws).await?, assigned) {
                (BuyerServerFrame::Assigned { .. }, true)
                | (BuyerServerFrame::Queued { .. }, false) => Ok(ws),
                (other, _) => Err(format!("buyer got {other:?}")),
            }
        })
        .buffer_unordered(args.connect_concurrency.max(1))
        .collect()
        .await;
    results.into_iter().collect()
}

/// One buyer: `quota` messages, one every `interval` (after `offset`), each waiting for its
/// Ack before the next (so the server never reads two frames of this socket at once).
async fn buyer_sends(
    mut ws: Ws,
    quota: u64,
    interval: Duration,
    offset: Duration,
    stats: Arc<Stats>,
) {
    tokio::time::sleep(offset).await;
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    for k in 0..quota {
        tick.tick().await;
        let client_msg_id = format!("m{k}");
        let sent = stats.now_us();
        let frame = BuyerFrame::Send {
            client_msg_id: client_msg_id.clone(),
            body: format!("t{sent}"),
            font_size: 14,
        };
        if send(&mut ws, &frame).await.is_err() {
            return;
        }
        loop {
            match next_frame::<BuyerServerFrame>(&mut ws).await {
                Ok(BuyerServerFrame::Ack(MessageAck {
                    client_msg_id: id, ..
                })) if id == client_msg_id => {
                    let now = stats.now_us();
                    stats.ack_latency.record_since(sent, now);
                    Stats::bump(&stats.acked);
                    Stats::mark(&stats.last_ack_us, now);
                    break;
                }
                Ok(BuyerServerFrame::Error {
                    message,
                    client_msg_id: id,
                }) if id.as_deref() == Some(&client_msg_id) || id.is_none() => {
                    if Stats::get(&stats.refused) < 5 {
                        eprintln!("message refused: {message}");
                    }
                    Stats::bump(&stats.refused);
                    break;
                }
                Ok(_) => {}
                Err(_) => return,
            }
        }
    }
}
