// Prints a page to PDF with headless Chromium (Debian's, driven by playwright-core; no browser is
// downloaded). One browser per report: reports are monthly, and a browser left running would hold
// ~100 MB for nothing.
import { chromium } from 'playwright-core';

export async function printPdf(page: string, executablePath: string): Promise<Buffer> {
  const browser = await chromium.launch({
    executablePath,
    // Chromium's sandbox cannot run as root (tests, containers); as any other user it stays on.
    args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
  });
  try {
    const tab = await browser.newPage({ javaScriptEnabled: false });
    await tab.setContent(page, { waitUntil: 'load' });
    return await tab.pdf({ format: 'A4', printBackground: true, preferCSSPageSize: true });
  } finally {
    await browser.close();
  }
}
