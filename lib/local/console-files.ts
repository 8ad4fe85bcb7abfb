/**
 * The ops console's static files (the Vite build in `web/dist`), served by the local runtime
 * under `/console/`. Static assets only, no data: they need no token; the console then calls
 * the API with the token the operator gives it.
 *
 * @module
 */
import { readFile, stat } from "node:fs/promises";
import { extname, join, normalize, sep } from "node:path";
import { fileURLToPath } from "node:url";

export const CONSOLE_PATH = "/console/";

/** Where `npm run build:web` writes the console. */
export const DEFAULT_CONSOLE_DIR = fileURLToPath(new URL("../../web/dist/", import.meta.url));

const TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json; charset=utf-8",
  ".woff": "font/woff",
  ".woff2": "font/woff2",
  ".txt": "text/plain; charset=utf-8",
};

/** Same-origin only; Cloudscape sets inline styles, fonts and icons may be data: URLs. */
const SECURITY_HEADERS = {
  "content-security-policy":
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
};

export interface StaticAnswer {
  status: number;
  headers: Record<string, string>;
  body: Buffer | string;
}

/**
 * The answer to a GET of `pathname` when it is the console's; undefined for any other path
 * (the API's). `/` redirects to the console.
 */
export async function consoleFile(
  consoleDir: string,
  pathname: string,
): Promise<StaticAnswer | undefined> {
  if (pathname === "/" || pathname === "/console") {
    return { status: 302, headers: { location: CONSOLE_PATH }, body: "" };
  }
  if (!pathname.startsWith(CONSOLE_PATH)) return undefined;
  let relative: string;
  try {
    relative = decodeURIComponent(pathname.slice(CONSOLE_PATH.length)) || "index.html";
  } catch {
    return notFound("Not a console file.");
  }
  const root = normalize(consoleDir.endsWith(sep) ? consoleDir : consoleDir + sep);
  const file = normalize(join(root, relative));
  // Nothing outside the build directory, whatever the path says (`..`, encoded or not).
  if (!file.startsWith(root) || relative.includes("\0")) return notFound("Not a console file.");
  const info = await stat(file).catch(() => undefined);
  if (!info?.isFile()) {
    const built = await stat(join(root, "index.html")).catch(() => undefined);
    return notFound(
      built
        ? "Not a console file."
        : "The console is not built: run `npm run build:web`, then reload.",
    );
  }
  const hashed = relative.startsWith("assets/");
  return {
    status: 200,
    headers: {
      "content-type": TYPES[extname(file)] ?? "application/octet-stream",
      "cache-control": hashed ? "public, max-age=31536000, immutable" : "no-cache",
      ...SECURITY_HEADERS,
    },
    body: await readFile(file),
  };
}

function notFound(message: string): StaticAnswer {
  return {
    status: 404,
    headers: { "content-type": "text/plain; charset=utf-8", ...SECURITY_HEADERS },
    body: `${message}\n`,
  };
}
