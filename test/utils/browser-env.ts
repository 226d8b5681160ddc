import { accessSync, constants } from 'node:fs';
// Only the browser project may import this file: its jest config is the one that compiles puppeteer-core (ES
// modules only) to CommonJS.
import puppeteer, { Browser } from 'puppeteer-core';

/** The Chromium the browser tests drive: Debian's (npm test installs it), or BMI_CHROMIUM when set. */
export function chromiumPath(): string {
  return process.env.BMI_CHROMIUM || '/usr/bin/chromium';
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts a headless Chromium. As root (CI, the dev machines) Chromium refuses to start inside its own sandbox,
 * hence --no-sandbox; there is no GPU to use; and /dev/shm may be small (containers), so shared memory goes
 * to the temp dir instead.
 */
export function launchChromium(executablePath: string): Promise<Browser> {
  return puppeteer.launch({
    executablePath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
}

const HOW = "install Debian's chromium (`apt-get install chromium`; npm test does) or set BMI_CHROMIUM to a Chromium";

/**
 * A describe block that drives a real headless Chromium. Without one it fails in CI (CI is set), and elsewhere
 * it is skipped with one loud line, never silently.
 */
export function describeWithChromium(title: string, body: (executablePath: string) => void): void {
  const file = chromiumPath();
  if (isExecutable(file)) {
    describe(title, () => body(file));
  } else if (process.env.CI) {
    describe(title, () => {
      it('has a Chromium to run', () => {
        throw new Error(`no Chromium at ${file}: ${HOW}`);
      });
    });
  } else {
    console.warn(`SKIPPED "${title}": no Chromium at ${file}; ${HOW}`);
    describe.skip(title, () => it('needs a Chromium', () => undefined));
  }
}
