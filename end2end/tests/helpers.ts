import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import ExcelJS from 'exceljs';
import { expect, type Browser, type BrowserContext, type Locator, type Page } from '@playwright/test';

/** The repository root: `cargo leptos end-to-end` runs the server from here, so relative
 * `DATABASE_URL`s (sqlite://target/e2e/kefu.db) resolve against it. */
export const REPO_ROOT = path.resolve(__dirname, '..', '..');
/** Where the server under test listens (cargo-leptos' site-addr); override for a server run by hand. */
export const BASE_URL = process.env.KEFU_E2E_BASE_URL ?? 'http://127.0.0.1:3000';
export const SESSION_COOKIE = 'kefu_session';

/** Demo accounts seeded when KEFU_DEMO_DATA=true (SPEC §2, README "Demo logins"). */
export const DEMO_PASSWORD_ADMIN = 'Demo@832admin';
export const DEMO_PASSWORD_AGENT = 'Demo@832agent';
export const ADMIN = { login: 'demo_admin', password: DEMO_PASSWORD_ADMIN, name: '客服管理员' };
export const ADMIN2 = { login: 'demo_admin2', password: DEMO_PASSWORD_ADMIN };
export const AGENT_XIAOTONG = { login: 'kf101', password: DEMO_PASSWORD_AGENT, name: '客服小童' };
export const AGENT_XIAOLI = { login: 'kf102', password: DEMO_PASSWORD_AGENT, name: '客服小李' };

/** Path part of a page URL is exactly `p` (any query string allowed). */
export function pathIs(p: string): RegExp {
  const escaped = p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^[a-z]+://[^/]+${escaped}(?:[?#].*)?$`);
}

/** Waits until the page has loaded its wasm and gone quiet, so it is hydrated before we type
 * or click (a click before hydration would hit a button with no handler yet). A page that
 * never goes quiet (polling) is not an error here: the assertions that follow will tell. */
export async function settle(page: Page): Promise<void> {
  await page.waitForLoadState('networkidle', { timeout: 15_000 }).catch(() => undefined);
}

export async function gotoSettled(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await settle(page);
}

/** A visible role="alert" that has some text (forms may keep an empty live region around). */
export function alertIn(scope: Page | Locator): Locator {
  return scope.getByRole('alert').filter({ hasText: /\S/ });
}

const usedLogins = new Set<string>();

/** Fills and submits the login form; does not check where it lands. */
export async function submitLogin(page: Page, login: string, password: string): Promise<void> {
  if (!page.url().match(pathIs('/login'))) {
    await gotoSettled(page, '/login');
  } else {
    await settle(page);
  }
  usedLogins.add(login);
  await page.locator('#login').fill(login);
  await page.locator('#password').fill(password);
  await page.getByRole('button', { name: '登录', exact: true }).click();
}

/** Logs in and waits for the area the account lands on ('/admin' or '/agent'). */
export async function loginAs(
  page: Page,
  account: { login: string; password: string },
  landing: '/admin' | '/agent',
): Promise<void> {
  await gotoSettled(page, '/login');
  await submitLogin(page, account.login, account.password);
  await expect(page).toHaveURL(pathIs(landing));
  await settle(page);
}

/** Hovers the account top-right and clicks an item of its menu. */
export async function accountMenu(page: Page, item: '修改密码' | '退出系统'): Promise<void> {
  const account = page.locator('.account');
  await account.hover();
  const button = page.getByRole('menuitem', { name: item, exact: true });
  await expect(button).toBeVisible();
  await button.click();
}

/** 退出系统, and check that it brought us back to the login page. */
export async function logout(page: Page): Promise<void> {
  await accountMenu(page, '退出系统');
  await expect(page).toHaveURL(pathIs('/login'));
  await expect(page.locator('#login')).toBeVisible();
}

/** The 修改密码 dialog, opened from the account menu. */
export async function openChangePassword(page: Page): Promise<Locator> {
  await accountMenu(page, '修改密码');
  const dialog = page.getByRole('dialog', { name: '修改密码' });
  await expect(dialog).toBeVisible();
  return dialog;
}

export async function fillChangePassword(
  dialog: Locator,
  oldPassword: string,
  newPassword: string,
  confirm: string,
): Promise<void> {
  await dialog.getByLabel('原密码', { exact: true }).fill(oldPassword);
  await dialog.getByLabel('新密码', { exact: true }).fill(newPassword);
  await dialog.getByLabel('确认新密码', { exact: true }).fill(confirm);
  await dialog.getByRole('button', { name: '保存', exact: true }).click();
}

/** Value of the session cookie in a context, or undefined. */
export async function sessionCookie(context: BrowserContext) {
  return (await context.cookies(BASE_URL)).find((c) => c.name === SESSION_COOKIE);
}

/** Saves a desktop screenshot to end2end/screenshots/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<void> {
  const dir = path.join(REPO_ROOT, 'end2end', 'screenshots');
  fs.mkdirSync(dir, { recursive: true });
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.screenshot({ path: path.join(dir, `${name}.png`) });
}

/** The server binary built by `cargo leptos end-to-end` (debug). */
export function serverBinary(): string {
  return process.env.KEFU_SERVER_BIN ?? path.join(REPO_ROOT, 'target', 'debug', 'server');
}

/**
 * Ends the live login of an account with the operator CLI (`server kick-login`), against the
 * same DATABASE_URL the running server uses. Single login means a test that failed midway would
 * otherwise leave its account blocked for the next test.
 */
export function kickLogin(login: string): void {
  const bin = serverBinary();
  if (!fs.existsSync(bin)) {
    console.warn(`kick-login skipped: ${bin} not found`);
    return;
  }
  const result = spawnSync(bin, ['kick-login', '--login', login], {
    cwd: REPO_ROOT,
    env: process.env,
    encoding: 'utf8',
    timeout: 30_000,
  });
  if (result.error || result.status !== 0) {
    console.warn(
      `kick-login --login ${login} exited ${result.status ?? result.error}: ${(result.stderr ?? '').trim()}`,
    );
  }
}

/** Releases every account the current test logged in with. */
export function releaseUsedLogins(): void {
  for (const login of usedLogins) {
    kickLogin(login);
  }
  usedLogins.clear();
}

/** A fresh, cookie-less browser context with a page. */
export async function newPage(browser: Browser): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({
    baseURL: BASE_URL,
    viewport: { width: 1280, height: 800 },
    locale: 'zh-CN',
    timezoneId: 'Asia/Shanghai',
  });
  const page = await context.newPage();
  return { context, page };
}

/** Runs `steps` with a page of its own browser context (another person's browser, e.g. the
 * agent beside the admin) and closes that context afterwards, whether the steps pass or not. */
export async function withNewPage<T>(
  browser: Browser,
  steps: (other: { context: BrowserContext; page: Page }) => Promise<T>,
): Promise<T> {
  const other = await newPage(browser);
  try {
    return await steps(other);
  } finally {
    await other.context.close();
  }
}

/** A buyer token for supplier 1 as the mall makes it, signed by the server binary with the
 * development secret the test server runs with. */
export function signBuyerToken(buyerId: string, name: string, unit: string): string {
  const signed = spawnSync(
    serverBinary(),
    ['sign-buyer-token', '--supplier-id', '1', '--buyer-id', buyerId, '--name', name, '--unit', unit],
    { cwd: REPO_ROOT, env: process.env, encoding: 'utf8', timeout: 30_000 },
  );
  expect(signed.status, signed.stderr).toBe(0);
  return signed.stdout.trim();
}

/** The agent's workbench switched to a status (示忙 / 服务中), once its socket is connected. */
export async function setStatus(page: Page, status: '示忙' | '服务中'): Promise<void> {
  const button = page.getByRole('button', { name: status, exact: true });
  await expect(button).toBeEnabled();
  await button.click();
  await expect(button).toHaveAttribute('aria-pressed', 'true');
}

/** Opens /demo in a fresh context and starts the chat as a demo buyer. */
export async function buyerChat(browser: Browser, name: string): Promise<Page> {
  const { page } = await newPage(browser);
  await gotoSettled(page, '/demo');
  await page.getByRole('link', { name: `${name} 开始咨询` }).click();
  await expect(page).toHaveURL(/\/chat\?token=/);
  await settle(page);
  return page;
}

/** Types a message in the page's composer and sends it with Enter. */
export async function sendText(page: Page, text: string): Promise<void> {
  const box = page.getByLabel('输入消息');
  await box.click();
  await box.fill(text);
  await box.press('Enter');
}

/** A delivered message bubble (not pending) containing `text`. */
export function bubble(page: Page, text: string): Locator {
  return page.locator('.msg:not(.pending) .msg-body', { hasText: text });
}

/** 客服小童 on the workbench, alone (客服小李's login ended) and 服务中. */
export async function agentServing(page: Page): Promise<void> {
  kickLogin(AGENT_XIAOLI.login);
  await loginAs(page, AGENT_XIAOTONG, '/agent');
  await setStatus(page, '服务中');
}

/** 结束对话 on the workbench's open conversation, confirmed, until its head says 已结束. */
export async function endConversation(page: Page): Promise<void> {
  await page.getByRole('button', { name: '结束对话' }).click();
  await page.getByRole('dialog', { name: '结束对话' }).getByRole('button', { name: '确定' }).click();
  await expect(page.locator('.chat-head .tag', { hasText: '已结束' })).toBeVisible();
}

/** The import template as the admin downloads it (下载导入模板 on a page showing that link),
 * kept in end2end/test-results/`fileName` and opened: `badOrderAt` writes a copy of the
 * example order (row 2) with another order number and a status that does not exist into a row,
 * and `saveAs` writes the edited workbook next to the template. */
export async function downloadImportTemplate(page: Page, fileName: string) {
  const download = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: '下载导入模板' }).click(),
  ]).then(([d]) => d);
  const dir = path.join(REPO_ROOT, 'end2end', 'test-results');
  fs.mkdirSync(dir, { recursive: true });
  const templatePath = path.join(dir, fileName);
  await download.saveAs(templatePath);

  const book = new ExcelJS.Workbook();
  await book.xlsx.readFile(templatePath);
  const sheet = book.worksheets[0];
  // ExcelJS rows are 1-based sparse arrays: fill the holes before searching.
  const header = Array.from(sheet.getRow(1).values as unknown[], (v) => String(v ?? ''));
  const col = (name: string) => header.findIndex((h) => h.startsWith(name));
  const badOrderAt = (rowNumber: number, orderNo: string) => {
    const row = sheet.getRow(rowNumber);
    sheet.getRow(2).eachCell({ includeEmpty: true }, (cell, n) => {
      row.getCell(n).value = cell.value;
    });
    row.getCell(col('订单编号')).value = orderNo;
    row.getCell(col('订单状态')).value = '不存在的状态';
    row.commit();
  };
  const saveAs = async (editedName: string): Promise<string> => {
    const editedPath = path.join(dir, editedName);
    await book.xlsx.writeFile(editedPath);
    return editedPath;
  };
  return { templatePath, badOrderAt, saveAs };
}
