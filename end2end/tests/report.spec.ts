import * as fs from 'node:fs';
import * as path from 'node:path';
import ExcelJS from 'exceljs';
import { expect, test, type Page } from '@playwright/test';
import { ADMIN, ADMIN2, BASE_URL, REPO_ROOT, alertIn, loginAs, logout, pathIs, releaseUsedLogins, screenshot } from './helpers';

const SHOTS = path.join(REPO_ROOT, 'end2end', 'screenshots');

// SPEC §5–§6 / manual §3.5: 在线会话清单, filtered by 客户编号, and 导出 of exactly the filtered rows.

test.afterEach(releaseUsedLogins);

/** Runs `action` (a preset, 搜索, a page button) and waits for the report it asks for: the server
 * function's own answer, then the table marked with exactly the filter and page of that answer
 * (`data-query`), showing its total and its number of rows. Never looks at rows that may still be
 * the previous report's. */
type Report = {
  total: number;
  rows: unknown[];
  totals: { count: number };
  query: { from: string; to: string; buyer: string; agent: string; page: number };
};

async function reportAfter(page: Page, action: () => Promise<unknown>): Promise<Report> {
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.url().includes('/api/admin/session_report') && r.request().method() === 'POST'),
    action(),
  ]);
  expect(response.status()).toBe(200);
  const report = (await response.json()) as Report;
  expect(report.totals.count).toBe(report.total);
  const q = report.query;
  const table = page.locator('.report-table').and(
    page.locator(`[data-query="${[q.from, q.to, q.buyer, q.agent, q.page].join('|')}"]`),
  );
  await expect(table).toBeVisible();
  await expect(table.locator('.pager')).toContainText(`共 ${report.total} 条`);
  await expect(table.locator('tfoot tr.totals')).toContainText(`${report.total} 个会话`);
  await expect(table.locator('tbody tr')).toHaveCount(Math.max(report.rows.length, 1));
  return report;
}

const HEADERS = [
  '客户编号', '客户名称', '单位', '客服姓名', '客服工号', '客户进入时间', '客服进入时间', '会话结束时间',
  '客户等待时长(秒)', '会话时长(秒)', '处理时长(秒)', '首次响应时长(秒)', '人工介入数', '客户消息数', '结束方式',
];

test('在线会话清单 filters by 客户编号 and 导出 downloads exactly those rows', async ({ page }) => {
  await loginAs(page, ADMIN, '/admin');
  await page.getByRole('link', { name: '在线会话清单' }).click();
  await expect(page).toHaveURL(pathIs('/admin/sessions'));
  await expect(page.locator('thead th')).toHaveText(HEADERS);

  const all = await reportAfter(page, () => page.getByRole('button', { name: '近30天' }).click());
  expect(all.total).toBeGreaterThan(1);
  const rows = page.locator('.report-table tbody tr');

  // Typed in lower case: the 客户编号 search ignores case (and matches the start of it).
  await page.getByLabel('客户编号').fill('cg1002');
  const only = await reportAfter(page, () => page.getByRole('button', { name: '搜索' }).click());
  const filtered = await rows.allInnerTexts();
  expect(filtered.length).toBeGreaterThan(0);
  expect(only.total).toBeLessThan(all.total);
  for (const row of filtered) expect(row).toContain('CG1002');
  await expect(page.locator('tfoot tr.totals')).toContainText(`${filtered.length} 个会话`);
  await screenshot(page, 'report-admin-sessions');

  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: '导出' }).click()]);
  expect(download.suggestedFilename()).toMatch(/^在线会话清单_示例农产品供应商_\d{8}-\d{8}\.xlsx$/);
  const file = await download.path();
  const book = new ExcelJS.Workbook();
  await book.xlsx.readFile(file);
  const sheet = book.worksheets[0];
  const header = (sheet.getRow(1).values as unknown[]).slice(1);
  expect(header).toEqual(HEADERS);
  const dataRows = [];
  for (let r = 2; r <= sheet.rowCount; r++) {
    const values = sheet.getRow(r).values as unknown[];
    if (values.length > 1) dataRows.push(values.slice(1));
  }
  expect(dataRows.length).toBe(filtered.length);
  for (const row of dataRows) {
    expect(row[0]).toBe('CG1002');
    expect(row[5]).toBeInstanceOf(Date); // 客户进入时间 is a real date-time cell
    expect(typeof row[8]).toBe('number'); // 客户等待时长 is a number
  }
  expect(book.getWorksheet('说明')).toBeDefined();
  await logout(page);
});

test('在线会话清单 refuses a bad range and shows another supplier nothing of ours', async ({ page }) => {
  await loginAs(page, ADMIN, '/admin');
  await page.goto('/admin/sessions');
  // Hydrated first (the buttons are enabled only then): typing before would be reset by it.
  await expect(page.getByRole('button', { name: '搜索' })).toBeEnabled();
  await page.locator('#report-from').fill('2026-11-20');
  await page.locator('#report-to').fill('2026-11-01');
  await page.getByRole('button', { name: '搜索' }).click();
  await expect(alertIn(page)).toContainText('结束日期不能早于开始日期');
  const tooLong = await page.request.get('/admin/sessions/export?from=2024-01-01&to=2026-11-01&buyer=&agent=');
  expect(tooLong.status()).toBe(400);
  expect(await tooLong.text()).toContain('366');
  await logout(page);

  await loginAs(page, ADMIN2, '/admin');
  await page.goto('/admin/sessions');
  await reportAfter(page, () => page.getByRole('button', { name: '近30天' }).click());
  await expect(page.locator('.report-table tbody')).not.toContainText('CG100');
  // The same range in which supplier 1 has CG1002's conversations (first test).
  const day = (offset: number) =>
    new Date(Date.now() + 8 * 3600_000 + offset * 86_400_000).toISOString().slice(0, 10);
  const exported = await page.request.get(`/admin/sessions/export?from=${day(-29)}&to=${day(0)}&buyer=CG1002&agent=`);
  expect(exported.status()).toBe(200);
  const book = new ExcelJS.Workbook();
  // ExcelJS declares an older Buffer type than Node's; the bytes are what it reads.
  const bytes = await exported.body();
  await book.xlsx.load(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
  expect(book.worksheets[0].rowCount).toBe(1); // header only: supplier 1's buyer is invisible here
  await logout(page);
});

test('在线会话清单 labels 合计 and 平均值 on their own lines and fits a 1440 px screen', async ({ page }) => {
  await page.setViewportSize({ width: 1440, height: 900 });
  await loginAs(page, ADMIN, '/admin');
  await page.goto('/admin/sessions');
  await expect(page.getByRole('button', { name: '搜索' })).toBeEnabled();
  const report = await reportAfter(page, () => page.getByRole('button', { name: '近30天' }).click());
  expect(report.total).toBeGreaterThan(1);

  // Two footer lines, each with its own label: totals are not shown under 平均值.
  const footer = page.locator('.report-table tfoot tr');
  await expect(footer).toHaveCount(2);
  await expect(footer.nth(0).locator('th')).toHaveText('合计');
  await expect(footer.nth(0)).toContainText(`${report.total} 个会话`);
  await expect(footer.nth(0)).not.toContainText('平均');
  await expect(footer.nth(1).locator('th')).toHaveText('平均值');
  await expect(footer.nth(1)).not.toContainText(`${report.total} 个会话`);

  // Every column is visible without scrolling sideways at 1440 px.
  const scroller = page.locator('.report-scroll');
  const fit = await scroller.evaluate((el) => ({ scroll: el.scrollWidth, client: el.clientWidth }));
  expect(fit.scroll).toBeLessThanOrEqual(fit.client);
  await expect(page.locator('.report-table thead th').last()).toBeInViewport();
  // Narrower screens scroll, with 客户编号 kept in view.
  await expect(page.locator('.report-table tbody tr').first().locator('td').first()).toHaveCSS('position', 'sticky');
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, 'report-sessions-1440.png'), fullPage: true });
  await logout(page);
});

test('dates read 年-月-日 in an English browser too, typed or picked', async ({ browser }) => {
  const context = await browser.newContext({ baseURL: BASE_URL, locale: 'en-US', viewport: { width: 1440, height: 900 } });
  const page = await context.newPage();
  try {
    await loginAs(page, ADMIN, '/admin');
    expect(await page.evaluate(() => document.documentElement.lang)).toBe('zh-CN');
    await page.goto('/admin/sessions');
    await expect(page.getByRole('button', { name: '搜索' })).toBeEnabled();
    const report = await reportAfter(page, () => page.getByRole('button', { name: '近30天' }).click());
    // A native date input would show 11/25/2026 here; ours is a text field in 年-月-日.
    const from = page.locator('#report-from');
    await expect(from).toHaveAttribute('type', 'text');
    await expect(from).toHaveValue(report.query.from);
    expect(report.query.from).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    // The calendar picker writes the picked day into the field in the same format.
    await page.locator('#report-from + .date-picker input[type="date"]').fill('2026-11-01');
    await expect(from).toHaveValue('2026-11-01');
    await page.locator('#report-to').fill('2026/11/30');
    const picked = await reportAfter(page, () => page.getByRole('button', { name: '搜索' }).click());
    expect([picked.query.from, picked.query.to]).toEqual(['2026-11-01', '2026-11-30']);
    await expect(page.locator('#report-to')).toHaveValue('2026-11-30');
    await logout(page);
  } finally {
    await context.close();
  }
});

/** Runs `action` on 操作日志 and waits for the page of the log it asks for (marked with exactly its
 * filter and page). */
type AuditData = { total: number; rows: { action: string }[]; query: { action: string; from: string; to: string; page: number } };

async function auditAfter(page: Page, action: () => Promise<unknown>): Promise<AuditData> {
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.url().includes('/api/admin/audit_log') && r.request().method() === 'POST'),
    action(),
  ]);
  expect(response.status()).toBe(200);
  const data = (await response.json()) as AuditData;
  const q = data.query;
  const table = page.locator(`.audit-table[data-query="${[q.action, q.from, q.to, q.page].join('|')}"]`);
  await expect(table).toBeVisible();
  await expect(page.locator('.pager')).toContainText(`共 ${data.total} 条`);
  await expect(table.locator('tbody tr')).toHaveCount(Math.max(data.rows.length, 1));
  return data;
}

test('操作日志 filters by action and by day', async ({ page }) => {
  await loginAs(page, ADMIN, '/admin');
  await page.goto('/admin/audit');
  await expect(page.getByRole('button', { name: '查询' })).toBeEnabled();
  const select = page.getByLabel('操作', { exact: true });
  await expect(select.locator('option', { hasText: '登录' }).first()).toBeAttached();

  await select.selectOption({ label: '登录' });
  const logins = await auditAfter(page, () => page.getByRole('button', { name: '查询' }).click());
  expect(logins.total).toBeGreaterThan(0);
  expect(logins.query.action).toBe('login');
  await expect(page.locator('.audit-table tbody .tag')).toHaveText(logins.rows.map(() => '登录'));

  // Today (Shanghai) holds this login; tomorrow holds nothing.
  const day = (offset: number) => new Date(Date.now() + 8 * 3600_000 + offset * 86_400_000).toISOString().slice(0, 10);
  await page.locator('#audit-from').fill(day(0));
  await page.locator('#audit-to').fill(day(0));
  const today = await auditAfter(page, () => page.getByRole('button', { name: '查询' }).click());
  expect(today.total).toBeGreaterThan(0);
  expect(today.query.from).toBe(day(0));
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.setViewportSize({ width: 1440, height: 900 });
  await page.screenshot({ path: path.join(SHOTS, 'report-audit-filter.png') });
  await page.locator('#audit-from').fill(day(1));
  await page.locator('#audit-to').fill(day(1));
  const tomorrow = await auditAfter(page, () => page.getByRole('button', { name: '查询' }).click());
  expect(tomorrow.total).toBe(0);
  await expect(page.locator('.audit-table tbody')).toContainText('没有符合条件的操作记录');
  await logout(page);
});
