/**
 * A real browser for web view tests: Debian's chromium driven by
 * playwright-core, launched once per test file. `withPage` gives each test
 * its own context (fresh cookies) and saves a screenshot to
 * test-results/web/ when the test fails.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { chromium, type Browser, type Page } from 'playwright-core';
import { PACKAGE_ROOT } from '../../src/package-root.js';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SCREENSHOTS = join(PACKAGE_ROOT, 'test-results', 'web');

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

export async function withPage(t: ExecutionContext, browser: Browser, fn: (page: Page) => Promise<void>, viewport = { width: 1280, height: 900 }): Promise<void> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  try {
    await fn(page);
    t.deepEqual(errors, [], 'no script errors on the page');
  } catch (error) {
    mkdirSync(SCREENSHOTS, { recursive: true });
    const file = join(SCREENSHOTS, `${t.title.replace(/[^a-z0-9]+/gi, '-').slice(0, 80)}.png`);
    await page.screenshot({ path: file, fullPage: true }).catch(() => undefined);
    t.log(`screenshot: ${file}${errors.length ? `; page errors: ${errors.join('; ')}` : ''}`);
    throw error;
  } finally {
    await context.close();
  }
}
