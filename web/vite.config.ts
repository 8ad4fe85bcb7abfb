import react from "@vitejs/plugin-react";
import { defineConfig, loadEnv, type ProxyOptions } from "vite";

/** The API routes `vite dev` forwards to a running runtime (the console itself stays on vite). */
const API_PATHS = ["/devices", "/keys", "/failures", "/runs", "/jobs", "/events"];

/**
 * The runtime answers only its own Host and origin (README, local mode): the dev server's calls
 * reach it as the runtime's own, Host rewritten and the dev page's Origin dropped.
 */
function toRuntime(api: string): ProxyOptions {
  return {
    target: api,
    changeOrigin: true,
    configure: (proxy) => {
      proxy.on("proxyReq", (request) => request.removeHeader("origin"));
    },
  };
}

/**
 * The ops console. The local runtime serves web/dist at /console/. For work on the console,
 * `KEYHEAL_API=http://127.0.0.1:PORT npx vite web` proxies the API to a running runtime.
 */
export default defineConfig(({ mode }) => {
  // loadEnv also reads the process environment for the prefix, without typing `process` here.
  const api = loadEnv(mode, ".", "KEYHEAL_").KEYHEAL_API;
  return {
    base: "/console/",
    plugins: [react()],
    build: {
      outDir: "dist",
      emptyOutDir: true,
      // Cloudscape makes one large chunk; the console loads once per session from loopback.
      chunkSizeWarningLimit: 4000,
    },
    server: api ? { proxy: Object.fromEntries(API_PATHS.map((p) => [p, toRuntime(api)])) } : {},
  };
});
