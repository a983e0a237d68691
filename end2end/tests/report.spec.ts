import ExcelJS from 'exceljs';
import { expect, test, type Page } from '@playwright/test';
import { ADMIN, ADMIN2, alertIn, loginAs, logout, pathIs, releaseUsedLogins, screenshot } from './helpers';

// SPEC §5–§6 / manual §3.5: 在线会话清单, filtered by 客户编号, and 导出 of exactly the filtered rows.

test.afterEach(() => {
  releaseUsedLogins();
});

/** Runs `action` (a preset, 搜索, a page button) and waits for the report it asks for: the server
 * function's own answer, then the table showing exactly that answer (the footer's total and the
 * number of rows). Never counts rows that may still be the previous range's. */
type Report = { total: number; rows: unknown[]; totals: { count: number } };

async function reportAfter(page: Page, action: () => Promise<unknown>): Promise<Report> {
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.url().includes('/api/admin/session_report') && r.request().method() === 'POST'),
    action(),
  ]);
  expect(response.status()).toBe(200);
  const report = (await response.json()) as Report;
  expect(report.totals.count).toBe(report.total);
  await expect(page.locator('tfoot')).toContainText(`合计 ${report.total} 个会话`);
  await expect(page.locator('.report-table tbody tr')).toHaveCount(report.rows.length);
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

  await page.getByLabel('客户编号').fill('CG1002');
  const only = await reportAfter(page, () => page.getByRole('button', { name: '搜索' }).click());
  const filtered = await rows.allInnerTexts();
  expect(filtered.length).toBeGreaterThan(0);
  expect(only.total).toBeLessThan(all.total);
  for (const row of filtered) expect(row).toContain('CG1002');
  await expect(page.locator('tfoot')).toContainText(`合计 ${filtered.length} 个会话`);
  await screenshot(page, 'admin-sessions');

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
  await book.xlsx.load(await exported.body());
  expect(book.worksheets[0].rowCount).toBe(1); // header only: supplier 1's buyer is invisible here
  await logout(page);
});
