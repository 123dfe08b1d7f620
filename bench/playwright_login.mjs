// The benchmark's login journey with Playwright (playwright-core) driving Debian's
// Chromium: the browser is launched once and kept; each run gets a new context (Playwright's
// isolation), as a Playwright-based prober would. Prints one JSON object.
import { chromium } from "playwright-core";

const [base, password, n] = [process.argv[2], process.argv[3], Number(process.argv[4] || 10)];
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"],
});
const durations = [];
let failures = 0;
for (let i = 0; i < n; i++) {
  const t0 = performance.now();
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(`${base}/login`);
    await page.fill("#username", "bench@example.com");
    await page.fill("#password", password);
    await page.click("button[type=submit]");
    await page.waitForURL(/\/dashboard$/);
    const text = await page.textContent("#welcome");
    if (!text.includes("Welcome")) failures++;
  } catch (e) {
    failures++;
  } finally {
    await context.close();
  }
  durations.push(performance.now() - t0);
}
await browser.close();
const usage = process.resourceUsage();
console.log(JSON.stringify({
  tool: "playwright",
  durations_ms: durations,
  failures,
  cpu_ms: (usage.userCPUTime + usage.systemCPUTime) / 1000,
  max_rss_kb: usage.maxRSS,
}));
