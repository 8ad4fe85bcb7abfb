import { useEffect, useState } from "react";

export type Route =
  | { page: "devices" }
  | { page: "failures"; deviceId?: string }
  | { page: "keys" }
  | { page: "run"; runId: string };

/** `#/devices`, `#/failures`, `#/failures?device=ID`, `#/keys`, `#/runs/<id>`. */
export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, "");
  const [pathname = "", search = ""] = path.split("?", 2);
  const run = /^\/runs\/(.+)$/.exec(pathname);
  if (run?.[1]) return { page: "run", runId: decodeURIComponent(run[1]) };
  if (pathname === "/failures") {
    const deviceId = new URLSearchParams(search).get("device") ?? undefined;
    return deviceId ? { page: "failures", deviceId } : { page: "failures" };
  }
  if (pathname === "/keys") return { page: "keys" };
  return { page: "devices" };
}

export function runHref(runId: string): string {
  return `#/runs/${encodeURIComponent(runId)}`;
}

export function failuresHref(deviceId?: string): string {
  return deviceId ? `#/failures?device=${encodeURIComponent(deviceId)}` : "#/failures";
}

export function useRoute(): Route {
  const [hash, setHash] = useState(window.location.hash);
  useEffect(() => {
    const onChange = () => setHash(window.location.hash);
    window.addEventListener("hashchange", onChange);
    return () => window.removeEventListener("hashchange", onChange);
  }, []);
  return parseRoute(hash);
}
